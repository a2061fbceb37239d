import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeIdentity } from '../../node-agent/management/NodeIdentity.js';
import { helloSigningInput, nodeToServerSchema, type NodeToServer } from '../../shared/node-protocol/messages.js';
import { helloSignatureValid } from './nodeIdentity.service.js';

type Hello = Extract<NodeToServer, { type: 'hello' }>;

const hello = (identity: NodeIdentity, nonce: string, name = 'n1'): Hello =>
  nodeToServerSchema.parse({
    type: 'hello',
    name,
    hostname: 'h',
    address: '127.0.0.1',
    clientApiUrl: 'http://127.0.0.1:1',
    version: 't',
    configVersion: null,
    publicKey: identity.publicKey,
    nonce,
    signature: identity.signHello(nonce, name),
  }) as Hello;

describe('the hello signature', async () => {
  const identity = await NodeIdentity.load(mkdtempSync(join(tmpdir(), 'om-id-unit-')));
  const other = await NodeIdentity.load(mkdtempSync(join(tmpdir(), 'om-id-unit-')));

  it('verifies for this connection’s nonce only', () => {
    expect(helloSignatureValid(hello(identity, 'nonce-1'), 'nonce-1')).toBe(true);
    expect(helloSignatureValid(hello(identity, 'nonce-1'), 'nonce-2')).toBe(false);
    // The nonce in the hello changed to the new one, the signature still the old one's.
    expect(helloSignatureValid({ ...hello(identity, 'nonce-1'), nonce: 'nonce-2' }, 'nonce-2')).toBe(false);
  });

  it('binds the name and the key claimed', () => {
    expect(helloSignatureValid({ ...hello(identity, 'n'), name: 'someone-else' }, 'n')).toBe(false);
    expect(helloSignatureValid({ ...hello(identity, 'n'), publicKey: other.publicKey }, 'n')).toBe(false);
  });

  it('refuses keys that are not Ed25519 and garbage, without throwing', () => {
    // A valid ECDSA signature by a P-256 key: a real signature, but not the kind of key a node has.
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKey = ec.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const signature = sign('sha256', helloSigningInput({ nonce: 'n', name: 'n1', publicKey }), ec.privateKey).toString('base64');
    expect(helloSignatureValid({ ...hello(identity, 'n'), publicKey, signature }, 'n')).toBe(false);
    expect(helloSignatureValid({ ...hello(identity, 'n'), publicKey: 'not a key', signature: '!!!' }, 'n')).toBe(false);
  });

  it('keeps one identity across starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-id-unit-'));
    const first = await NodeIdentity.load(dir);
    await first.enrolledAs(7);
    const again = await NodeIdentity.load(dir);
    expect(again.publicKey).toBe(first.publicKey);
    expect(again.nodeId).toBe(7);
    await again.discard();
    expect((await NodeIdentity.load(dir)).publicKey).not.toBe(first.publicKey);
  });
});
