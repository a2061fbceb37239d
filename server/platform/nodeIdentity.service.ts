import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { conferencingNode, nodeCredential, nodeEnrollmentToken, systemLocation } from '../../db/schema.js';
import { helloSigningInput, type NodeRejectionCode, type NodeToServer } from '../../shared/node-protocol/messages.js';
import { secretEquals } from '../../shared/security/secretEquals.js';
import { recordChange } from '../audit/adminLog.service.js';
import { actorOf, type Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { isLoopback } from '../http/webSecurity.js';
import { defaultLocationId } from './location.service.js';

type Hello = Extract<NodeToServer, { type: 'hello' }>;

/** How long an enrollment token issued in the console stays usable. */
export const ENROLLMENT_TOKEN_TTL_MS = 24 * 3_600_000;

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

export type NodeAuthResult = { ok: true; id: number; location: string } | { ok: false; code: NodeRejectionCode; reason: string };

const refuse = (code: NodeRejectionCode, reason: string): NodeAuthResult => ({ ok: false, code, reason });

/** The signature over this connection's nonce verifies with the public key the hello presents. */
export function helloSignatureValid(hello: Hello, nonce: string): boolean {
  if (hello.nonce !== nonce) return false;
  try {
    const key = createPublicKey({ key: Buffer.from(hello.publicKey, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, helloSigningInput(hello), key, Buffer.from(hello.signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Who is this node? A signed hello (checked by the caller) proves possession of a key; this decides
 * whether that key is, or may become, the named node's credential:
 * - the key enrolled for the node (not revoked): accepted;
 * - a one-time enrollment token issued for the node: consumed, and the key becomes its credential;
 * - the platform's enrollment key, from this machine only, for a node without a credential yet
 *   (the quick start's local node and the test harnesses).
 */
export async function authenticateNode(dom: Domain, hello: Hello, ctx: { remoteAddress: string; platformKey: string }): Promise<NodeAuthResult> {
  const [row] = await dom.db
    .select({ node: conferencingNode, credential: nodeCredential })
    .from(conferencingNode)
    .leftJoin(nodeCredential, eq(nodeCredential.nodeId, conferencingNode.id))
    .where(eq(conferencingNode.name, hello.name));
  const node = row?.node ?? null;
  const credential = row?.credential ?? null;

  // It was enrolled once, and that node is gone: an administrator deleted it.
  if (hello.nodeId !== undefined && node?.id !== hello.nodeId && !hello.enrollmentToken) {
    return refuse('deleted', 'This conferencing node has been deleted from the platform');
  }
  if (node && credential && !credential.revokedAt && credential.publicKey === hello.publicKey) return accept(dom, node.id, hello);

  if (hello.enrollmentToken) {
    if (!node) return refuse('token_invalid', 'Invalid or expired enrollment token');
    const used = await dom.db.transaction(async (tx) => {
      const [token] = await tx
        .update(nodeEnrollmentToken)
        .set({ usedAt: new Date() })
        .where(
          and(
            eq(nodeEnrollmentToken.tokenHash, sha256hex(hello.enrollmentToken!)),
            eq(nodeEnrollmentToken.nodeId, node.id),
            isNull(nodeEnrollmentToken.usedAt),
            gt(nodeEnrollmentToken.expiresAt, new Date()),
          ),
        )
        .returning({ id: nodeEnrollmentToken.id });
      if (!token) return false;
      await tx
        .insert(nodeCredential)
        .values({ nodeId: node.id, publicKey: hello.publicKey })
        .onConflictDoUpdate({ target: nodeCredential.nodeId, set: { publicKey: hello.publicKey, enrolledAt: new Date(), revokedAt: null } });
      return true;
    });
    if (!used) return refuse('token_invalid', 'Invalid or expired enrollment token');
    return accept(dom, node.id, hello);
  }
  if (credential?.revokedAt) return refuse('revoked', "This conferencing node's credential has been revoked");
  if (credential) return refuse('invalid_credentials', 'This node name is enrolled with another identity');

  if (hello.enrollmentKey && secretEquals(hello.enrollmentKey, ctx.platformKey)) {
    if (!isLoopback(ctx.remoteAddress)) {
      return refuse('not_allowed', "The platform enrollment key is accepted from the management server's own machine only; use the node's enrollment token");
    }
    // Read before the transaction: PGlite has one connection, a read through dom.db inside it would wait forever.
    const locationId = node ? null : await defaultLocationId(dom);
    const id = await dom.db.transaction(async (tx) => {
      let nodeId = node?.id;
      if (nodeId === undefined) {
        const [created] = await tx
          .insert(conferencingNode)
          .values({
            name: hello.name,
            hostname: hello.hostname,
            address: hello.address,
            clientApiUrl: hello.clientApiUrl,
            version: hello.version,
            systemLocationId: locationId!,
          })
          .returning({ id: conferencingNode.id });
        nodeId = created!.id;
      }
      await tx.insert(nodeCredential).values({ nodeId, publicKey: hello.publicKey });
      return nodeId;
    });
    return accept(dom, id, hello);
  }
  if (hello.enrollmentKey) return refuse('invalid_credentials', 'Invalid enrollment key');
  return refuse('invalid_credentials', node ? 'Enrollment token required' : 'Unknown conferencing node');
}

async function accept(dom: Domain, id: number, hello: Hello): Promise<NodeAuthResult> {
  // Hostname and address stay as the administrator configured them: two machines with the same OS
  // hostname (clones, containers) would otherwise make both nodes' configuration invalid to edit.
  await dom.db
    .update(conferencingNode)
    .set({ clientApiUrl: hello.clientApiUrl, version: hello.version, lastContacted: new Date() })
    .where(eq(conferencingNode.id, id));
  const [loc] = await dom.db
    .select({ name: systemLocation.name })
    .from(conferencingNode)
    .innerJoin(systemLocation, eq(systemLocation.id, conferencingNode.systemLocationId))
    .where(eq(conferencingNode.id, id));
  return { ok: true, id, location: loc?.name ?? '' };
}

/** A new one-time enrollment token for a node (the console's "Add" and "New enrollment token"); shown once. */
export async function issueEnrollmentToken(dom: Domain, nodeId: number, ttlMs = ENROLLMENT_TOKEN_TTL_MS): Promise<{ token: string; expiresAt: Date }> {
  const [node] = await dom.db.select({ id: conferencingNode.id, name: conferencingNode.name }).from(conferencingNode).where(eq(conferencingNode.id, nodeId));
  if (!node) throw AppError.notFound('Conferencing node');
  const token = `omt_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + ttlMs);
  await dom.db.transaction(async (tx) => {
    await tx.insert(nodeEnrollmentToken).values({ nodeId, tokenHash: sha256hex(token), expiresAt });
    await recordChange(tx, actorOf(dom), {
      action: 'changed',
      objectType: 'Conferencing node',
      objectId: nodeId,
      objectName: node.name,
      before: {},
      after: { enrollment_token_issued: expiresAt.toISOString() },
    });
  });
  return { token, expiresAt };
}

/** An administrator revokes the node's credential: it is refused from now on and stops serving. */
export async function revokeNodeCredential(dom: Domain, nodeId: number): Promise<void> {
  const [node] = await dom.db.select({ id: conferencingNode.id, name: conferencingNode.name }).from(conferencingNode).where(eq(conferencingNode.id, nodeId));
  if (!node) throw AppError.notFound('Conferencing node');
  await dom.db.transaction(async (tx) => {
    const now = new Date();
    await tx.update(nodeCredential).set({ revokedAt: now }).where(eq(nodeCredential.nodeId, nodeId));
    // Unused tokens would let it straight back in.
    await tx
      .update(nodeEnrollmentToken)
      .set({ usedAt: now })
      .where(and(eq(nodeEnrollmentToken.nodeId, nodeId), isNull(nodeEnrollmentToken.usedAt)));
    await recordChange(tx, actorOf(dom), {
      action: 'changed',
      objectType: 'Conferencing node',
      objectId: nodeId,
      objectName: node.name,
      before: {},
      after: { credential: 'revoked' },
    });
  });
}

export type NodeEnrollmentState = 'enrolled' | 'revoked' | 'pending';

/** Each node's credential state: enrolled, revoked, or pending (never enrolled). */
export async function enrollmentStates(dom: Domain): Promise<Map<number, NodeEnrollmentState>> {
  const rows = await dom.db.select({ nodeId: nodeCredential.nodeId, revokedAt: nodeCredential.revokedAt }).from(nodeCredential);
  return new Map(rows.map((r) => [r.nodeId, r.revokedAt ? 'revoked' : 'enrolled']));
}
