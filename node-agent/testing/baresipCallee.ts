import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav, type BaresipCallResult } from './baresip.js';

export interface BaresipCallee {
  /** The SIP port it listens on (UDP and TCP) at 127.0.0.1. */
  port: number;
  /** `user@127.0.0.1:port`: where to dial it. */
  address: string;
  /** Its console output so far. */
  output(): string;
  /** Hangs up, quits, and gives what it decoded. */
  stop(): Promise<BaresipCallResult>;
}

const MODULES: Record<string, string> = { opus: 'opus.so', pcmu: 'g711.so', pcma: 'g711.so' };

/**
 * A port free for baresip's SIP over UDP and TCP, and the next one for its TLS transport (which it
 * opens too where libre has TLS): a UDP port alone was once taken on TCP and baresip did not start.
 */
async function freeUdpPort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const { port } = s.address();
    await new Promise<void>((r) => s.close(() => r()));
    if ((await tcpFree(port)) && (await tcpFree(port + 1))) return port;
    if (attempt >= 20) return port;
  }
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A real SIP phone that answers every call at once (baresip's `answermode=auto`), sends a sine
 * tone and dumps what it decodes: the callee of dial-out and gateway tests.
 */
export async function startBaresipCallee(opts: {
  user: string;
  toneHz: number;
  audioCodecs?: string;
  mediaenc?: 'srtp' | 'srtp-mand';
  /** Dial this once started (a gateway caller); unset = only answer. */
  dial?: string;
}): Promise<BaresipCallee> {
  const dir = mkdtempSync(join(tmpdir(), 'om-baresip-callee-'));
  const port = await freeUdpPort();
  const audioCodecs = opts.audioCodecs ?? 'opus/48000/2';
  const codecModules = new Set(audioCodecs.split(',').map((c) => MODULES[c.split('/')[0]!.toLowerCase()] ?? 'opus.so'));
  writeFileSync(
    join(dir, 'config'),
    [
      `sip_listen 127.0.0.1:${port}`,
      `audio_source ausine,${opts.toneHz}`,
      'ausrc_srate 48000',
      'ausrc_channels 2',
      'auplay_srate 48000',
      'audio_player aufile,/dev/null',
      `snd_path ${dir}`,
      'module_path /usr/lib/baresip/modules',
      'module stdio.so',
      ...[...codecModules].map((m) => `module ${m}`),
      ...(opts.mediaenc ? ['module srtp.so'] : []),
      'module ausine.so',
      'module aufile.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  const params = [`audio_codecs=${audioCodecs}`, 'answermode=auto', ...(opts.mediaenc ? [`mediaenc=${opts.mediaenc}`] : [])];
  writeFileSync(join(dir, 'accounts'), `<sip:${opts.user}@127.0.0.1:${port}>;regint=0;${params.join(';')}\n`);
  const child = spawn('baresip', ['-f', dir, ...(opts.dial ? ['-e', `/dial ${opts.dial}`] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  // Listening once it has printed its UA line (or after a second at worst).
  const started = Date.now();
  while (!/ua: |useragent|Populated/i.test(out) && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 50));
  return {
    port,
    address: `${opts.user}@127.0.0.1:${port}`,
    output: () => out,
    stop: async () => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      if (child.exitCode === null) {
        child.stdin.write('/hangup\n');
        setTimeout(() => child.exitCode === null && child.stdin.write('/quit\n'), 1_000);
        await exited;
      }
      clearTimeout(killer);
      const file = readdirSync(dir).find((f) => f.endsWith('-dec.wav'));
      const heard = file ? parseWav(readFileSync(join(dir, file))) : null;
      rmSync(dir, { recursive: true, force: true });
      return { out, heard };
    },
  };
}
