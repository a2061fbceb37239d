import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A conferencing node's deployment bundle as an administrator uses it: downloaded from the
 * management server's enrollment command, unpacked by the system's tar, started by its own
 * `start.sh`. Shared by the bundle's integration test and `bench/bundle-to-live.ts`.
 */
export class NodeBundleRun {
  /** Everything the node printed (stdout and stderr). */
  output = '';
  child: ChildProcess | null = null;

  private constructor(
    /** The temporary folder holding `bundle.tar.gz` and the unpacked bundle. */
    readonly dir: string,
    /** The unpacked bundle's folder. */
    readonly root: string,
    /** The download's `content-disposition`. */
    readonly disposition: string | null,
  ) {}

  /** Downloads node `nodeId`'s bundle (a new one-time token each time) and unpacks it. */
  static async download(managementUrl: string, headers: Record<string, string>, nodeId: number, nodeName: string): Promise<NodeBundleRun> {
    const res = await fetch(`${managementUrl}/api/admin/command/v1/conferencing_node/enrollment/`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ conferencing_node_id: nodeId, format: 'bundle' }),
    });
    if (res.status !== 200) throw new Error(`bundle download: ${res.status} ${await res.text()}`);
    const dir = mkdtempSync(join(tmpdir(), 'om-bundle-'));
    writeFileSync(join(dir, 'bundle.tar.gz'), Buffer.from(await res.arrayBuffer()));
    const untar = spawnSync('tar', ['xzf', 'bundle.tar.gz'], { cwd: dir });
    if (untar.status !== 0) throw new Error(`tar: ${String(untar.stderr)}`);
    return new NodeBundleRun(dir, join(dir, `openmeet-node-${nodeName}`), res.headers.get('content-disposition'));
  }

  /**
   * Runs the bundle's start script. The bundle carries no node_modules: the script links
   * `OPENMEET_NODE_MODULES` (here the repository's) instead of running npm.
   */
  start(env: Record<string, string>): ChildProcess {
    const child = spawn(join(this.root, 'start.sh'), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.output += String(d)));
    child.stderr!.on('data', (d: Buffer) => (this.output += String(d)));
    child.on('exit', (code) => (this.output += `\n[start.sh exited ${code}]`));
    this.child = child;
    return child;
  }

  get exited(): boolean {
    return this.child?.exitCode !== null && this.child?.exitCode !== undefined;
  }

  /** Stops the node and removes the unpacked bundle (its node_modules link is not followed). */
  async remove(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
