import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';

const run = promisify(execFile);
const scenario = (name: string) => join(import.meta.dirname, 'sipp', name);

async function sipp(name: string, port: number, service: string): Promise<number> {
  try {
    await run(
      'sipp',
      ['-sf', scenario(name), `127.0.0.1:${port}`, '-s', service, '-m', '1', '-p', '0', '-i', '127.0.0.1', '-nostdin', '-timeout', '10s', '-timeout_error'],
      { timeout: 20_000 },
    );
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

/** baresip (a real SIP phone, headless) dials `uri` and quits; resolves with what it printed. */
function baresipDial(uri: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'om-baresip-'));
  writeFileSync(
    join(dir, 'config'),
    [
      'sip_listen 127.0.0.1:0',
      'audio_source ausine,600',
      `audio_player aufile,${join(dir, 'heard.wav')}`,
      'module_path /usr/lib/baresip/modules',
      'module stdio.so',
      'module g711.so',
      'module ausine.so',
      'module aufile.so',
      'module_app account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'accounts'), '<sip:phone@127.0.0.1>;regint=0\n');
  return new Promise((resolve) => {
    const child = spawn('baresip', ['-f', dir, '-e', `/dial ${uri}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    setTimeout(() => child.stdin.write('/quit\n'), 4000);
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', () => {
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      resolve(out);
    });
  });
}

/** The node as deployed: SIP answered on its port with the VMRs the management server configured. */
describe('SIP on an enrolled node', () => {
  let platform: TestPlatform;
  let port: number;

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    await platform.rest('POST', 'conference/', { name: "Alice's VMR", aliases: [{ alias: 'meet.alice' }], pin: '1234' });
    await until(
      () => platform.node.manager.directory.lookup('meet.alice'),
      (s) => s !== undefined,
    );
    port = platform.node.sip!.port!;
  }, 60_000);
  afterAll(() => platform?.stop());

  it('answers OPTIONS, refuses an unknown alias with 404, and finds a VMR alias (480 until SIP media exists)', async () => {
    expect(await sipp('options.xml', port, 'x')).toBe(0);
    expect(await sipp('invite-unknown.xml', port, 'nobody')).toBe(0);
    // The VMR exists: not 404 but 480 until SIP media joins calls to the conference; the PIN form too.
    expect(await sipp('invite-unavailable.xml', port, 'meet.alice')).toBe(0);
    expect(await sipp('invite-unavailable.xml', port, 'meet.alice**1234')).toBe(0);
    expect(await sipp('invite-unknown.xml', port, 'meet.alice')).not.toBe(0);
  });

  it('a real SIP phone (baresip) dialling the VMR with its PIN gets 100 Trying then 480; an unknown alias 404', async () => {
    const vmr = await baresipDial(`sip:meet.alice**1234@127.0.0.1:${port}`);
    expect(vmr).toMatch(/100 Trying/);
    expect(vmr).toMatch(/session closed: 480 Temporarily Unavailable/);
    expect(await baresipDial(`sip:nobody@127.0.0.1:${port}`)).toMatch(/session closed: 404 Not Found/);
  }, 30_000);
});
