import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { nodeBundleConfigSchema, type NodeBundleConfig } from '../shared/node-protocol/nodeBundleConfig.js';

const run = promisify(execFile);
/** Every name this lab creates starts with it, then the creating process's pid (leftovers of dead runs are found by it). */
const PREFIX = 'oml';
const ROOT = resolve(import.meta.dirname, '..');

/** Runs `ip` with these arguments; throws with its stderr. */
async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (err) {
    throw new Error(`ip ${args.join(' ')}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, { cause: err });
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** A conferencing node agent process running in its own network namespace. */
export interface LabNode {
  name: string;
  namespace: string;
  /** Its address on the lab network. */
  address: string;
  /** Its client API, as reached from the host. */
  url: string;
  dataDir: string;
  /** How it was started: what a restart repeats. */
  start: { config: NodeBundleConfig; namespace: string; dataDir: string; command: string[]; cwd: string; env: Record<string, string> };
  child: ChildProcess;
  /** What it printed so far (stdout and stderr). */
  output: () => string;
  /** Resolves with its exit code once it has exited. */
  exited: Promise<number | null>;
}

/**
 * A lab network on this machine: a bridge on the host holding the lab's first address, and one
 * network namespace per conferencing node, joined to the bridge by a veth pair, each with its own
 * address in the lab's /24. Node agents run inside their namespace (`ip netns exec`). Everything is
 * named `oml<pid>…`, so parallel runs do not collide and a run that died is cleaned by the next.
 * Needs root (CAP_NET_ADMIN): `NetnsLab.supported()` says whether this machine allows it.
 */
export class NetnsLab {
  private readonly nodes: LabNode[] = [];
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  private readonly dirs: string[] = [];
  private created = 0;

  private constructor(
    /** e.g. 10.213.17 */
    private readonly net: string,
    private readonly tag: string,
  ) {}

  /** null when network namespaces can be created here, else why not. */
  static supported(): string | null {
    if (process.platform !== 'linux') return 'network namespaces need Linux';
    const probe = `${PREFIX}probe${process.pid}`;
    const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
    if (add.error || add.status !== 0) return `ip netns add is not permitted here: ${add.error?.message ?? add.stderr.trim()}`;
    spawnSync('ip', ['netns', 'del', probe]);
    return null;
  }

  /** The bridge and its host address; leftovers of dead runs are removed first. */
  static async create(): Promise<NetnsLab> {
    await NetnsLab.cleanLeftovers();
    const tag = `${PREFIX}${process.pid}`;
    if (tag.length > 11) throw new Error(`pid ${process.pid} too long for interface names`);
    // A private /24 per run, away from every address this machine already has.
    const used = await ip('-4', '-o', 'addr');
    let third = process.pid % 250;
    let net = `10.213.${third}`;
    for (let i = 0; used.includes(` ${net}.`) && i < 250; i++) net = `10.213.${(third = (third + 1) % 250)}`;
    const lab = new NetnsLab(net, tag);
    await ip('link', 'add', lab.bridge, 'type', 'bridge');
    await ip('addr', 'add', `${lab.hostAddress}/24`, 'dev', lab.bridge);
    await ip('link', 'set', lab.bridge, 'up');
    return lab;
  }

  /** Namespaces, links and processes left by runs whose process is gone. */
  static async cleanLeftovers(): Promise<void> {
    const dead = (name: string) => {
      const m = name.match(new RegExp(`^${PREFIX}(\\d+)`));
      return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
    };
    for (const line of (await ip('netns', 'list')).split('\n')) {
      const ns = line.split(' ')[0];
      if (ns && dead(ns)) await NetnsLab.removeNamespace(ns);
    }
    for (const line of (await ip('-o', 'link', 'show')).split('\n')) {
      const name = line.match(/^\d+: ([^:@]+)/)?.[1];
      if (name && dead(name)) await ip('link', 'del', name).catch(() => undefined);
    }
  }

  private static async removeNamespace(ns: string): Promise<void> {
    const pids = await ip('netns', 'pids', ns).catch(() => '');
    for (const pid of pids.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ip('netns', 'del', ns).catch(() => undefined);
  }

  get bridge(): string {
    return `${this.tag}b`;
  }

  /** The host's address on the lab network: the management server listens on it. */
  get hostAddress(): string {
    return `${this.net}.1`;
  }

  /** The lab address for the i-th node (1, 2...), to give it in the console. */
  nodeAddress(i: number): string {
    return `${this.net}.${10 + i}`;
  }

  /** A namespace joined to the lab's bridge, holding `address`. */
  private async addNamespace(address: string): Promise<string> {
    const index = ++this.created;
    const namespace = `${this.tag}n${index}`;
    const host = `${this.tag}h${index}`;
    const inside = `${this.tag}i${index}`;
    this.namespaces.push(namespace);
    this.links.push(host);
    await ip('netns', 'add', namespace);
    await ip('link', 'add', host, 'type', 'veth', 'peer', 'name', inside);
    await ip('link', 'set', inside, 'netns', namespace);
    await ip('link', 'set', host, 'master', this.bridge, 'up');
    await ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', inside);
    await ip('-n', namespace, 'link', 'set', inside, 'up');
    await ip('-n', namespace, 'link', 'set', 'lo', 'up');
    return namespace;
  }

  /**
   * Creates a namespace for the node named in `config` (the node.json the console offers), gives it
   * the configuration's address, and starts this repository's node agent there with that file.
   * Resolves once the node says it serves.
   */
  async startNode(config: NodeBundleConfig, env: Record<string, string> = {}): Promise<LabNode> {
    const namespace = await this.addNamespace(config.address);
    const dataDir = mkdtempSync(join(tmpdir(), `om-lab-${config.name}-`));
    this.dirs.push(dataDir);
    const configFile = join(dataDir, 'node.json');
    writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
    const command = [process.execPath, '--import', 'tsx', 'node-agent/main.ts'];
    return this.spawnNode({ config, namespace, dataDir, command, cwd: ROOT, env: { ...env, NODE_CONFIG: configFile, NODE_DATA_DIR: dataDir } });
  }

  /**
   * Unpacks a node's deployment bundle (the console's .tar.gz) with the system's tar and runs its
   * start script in a new namespace holding the address of its node.json, as an operator would on
   * another machine. The bundle carries no node_modules: its script links this repository's.
   */
  async startBundle(tarball: Buffer, env: Record<string, string> = {}): Promise<LabNode> {
    const dir = mkdtempSync(join(tmpdir(), 'om-lab-bundle-'));
    this.dirs.push(dir);
    writeFileSync(join(dir, 'bundle.tar.gz'), tarball);
    await run('tar', ['xzf', 'bundle.tar.gz'], { cwd: dir });
    const top = readdirSync(dir, { withFileTypes: true }).find((e) => e.isDirectory());
    if (!top) throw new Error('the bundle holds no directory');
    const root = join(dir, top.name);
    const config = nodeBundleConfigSchema.parse(JSON.parse(readFileSync(join(root, 'node.json'), 'utf8')));
    const namespace = await this.addNamespace(config.address);
    return this.spawnNode({
      config,
      namespace,
      dataDir: join(root, 'data'),
      command: [join(root, 'start.sh')],
      cwd: root,
      env: { ...env, OPENMEET_NODE_MODULES: join(ROOT, 'node_modules') },
    });
  }

  /** Starts a stopped node again in its namespace, the same way, on its data directory (its identity and stored configuration). */
  async restartNode(node: LabNode): Promise<LabNode> {
    await this.stopNode(node);
    return this.spawnNode(node.start);
  }

  private async spawnNode(start: LabNode['start']): Promise<LabNode> {
    const { config, namespace, dataDir, command, cwd, env } = start;
    const child = spawn('ip', ['netns', 'exec', namespace, ...command], {
      cwd,
      env: {
        ...process.env,
        LOG_LEVEL: process.env.LAB_LOG_LEVEL ?? 'warn',
        NODE_HTTPS_PORT: 'off',
        NODE_SIP_PORT: 'off',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += String(d)));
    child.stderr!.on('data', (d: Buffer) => (out += String(d)));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const node: LabNode = {
      name: config.name,
      namespace,
      address: config.address,
      url: `http://${config.address}:${config.port}`,
      dataDir,
      start,
      child,
      output: () => out,
      exited,
    };
    this.nodes.push(node);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (/conferencing node at /.test(out)) resolve();
      };
      child.stdout!.on('data', check);
      void exited.then((code) => reject(new Error(`node ${config.name} exited (${code}): ${out.slice(-2_000)}`)));
    });
    return node;
  }

  /** Cuts a node off the lab network (its link on the bridge down), as a network failure would. */
  async cut(node: LabNode): Promise<void> {
    await ip('link', 'set', this.hostLink(node), 'down');
  }

  /** Joins a cut node to the lab network again. */
  async restore(node: LabNode): Promise<void> {
    await ip('link', 'set', this.hostLink(node), 'up');
  }

  /** The host's end of a node's veth pair: named after its namespace. */
  private hostLink(node: LabNode): string {
    return node.namespace.replace(/n(\d+)$/, 'h$1');
  }

  /** Stops a node's process (SIGTERM, then SIGKILL after 5 s). */
  async stopNode(node: LabNode): Promise<void> {
    if (node.child.exitCode !== null || node.child.signalCode !== null) return;
    node.child.kill('SIGTERM');
    const timer = setTimeout(() => node.child.kill('SIGKILL'), 5_000);
    await node.exited;
    clearTimeout(timer);
  }

  /** Best effort: every process, namespace, link and directory of this lab. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.stopNode(n).catch(() => undefined)));
    for (const ns of this.namespaces) await NetnsLab.removeNamespace(ns);
    // A veth pair goes with its namespace, unless it never got there.
    for (const l of [...this.links, this.bridge]) await ip('link', 'del', l).catch(() => undefined);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
