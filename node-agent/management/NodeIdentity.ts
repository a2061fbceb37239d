import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { helloSigningInput } from '../../shared/node-protocol/messages.js';

// `<dataDir>/identity.json`, readable by the node's user only.
const identityFileSchema = z.object({
  /** PKCS#8 PEM. */
  privateKey: z.string().min(1),
  /** SPKI DER, base64: what the server stores. */
  publicKey: z.string().min(1),
  /** The id the management server gave this identity at enrollment; absent before. */
  nodeId: z.number().int().optional(),
});
type IdentityFile = z.infer<typeof identityFileSchema>;

/**
 * The node's own credential: an Ed25519 key pair made on first start and kept in its data
 * directory. The private key never leaves the node; it signs each connection's challenge.
 */
export class NodeIdentity {
  private constructor(
    private readonly file: string,
    private data: IdentityFile,
    private readonly key: KeyObject,
  ) {}

  static async load(dataDir: string): Promise<NodeIdentity> {
    await mkdir(dataDir, { recursive: true });
    const file = join(dataDir, 'identity.json');
    let data: IdentityFile | null = null;
    try {
      data = identityFileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
    } catch (err) {
      // Missing: first start. Unreadable or malformed: refuse to guess, a new key would not be accepted anyway.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`node identity ${file} is unreadable: ${(err as Error).message}`, { cause: err });
    }
    if (!data) {
      const pair = generateKeyPairSync('ed25519');
      data = {
        privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicKey: pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      };
    }
    const identity = new NodeIdentity(file, data, createPrivateKey(data.privateKey));
    await identity.save();
    return identity;
  }

  get publicKey(): string {
    return this.data.publicKey;
  }

  get nodeId(): number | undefined {
    return this.data.nodeId;
  }

  /** Proof of possession for one connection: a signature over its nonce and the identity claimed. */
  signHello(nonce: string, name: string): string {
    return sign(null, helloSigningInput({ nonce, name, publicKey: this.data.publicKey }), this.key).toString('base64');
  }

  async enrolledAs(nodeId: number): Promise<void> {
    if (this.data.nodeId === nodeId) return;
    this.data = { ...this.data, nodeId };
    await this.save();
  }

  /** Revoked or deleted: the credential is worthless now; a new enrollment starts from a new key. */
  async discard(): Promise<void> {
    await rm(this.file, { force: true });
  }

  private async save(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(this.data), { mode: 0o600 });
    await rename(tmp, this.file);
  }
}
