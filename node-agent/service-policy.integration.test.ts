import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { NodeAgent } from './NodeAgent.js';
import { TestPlatform } from '../testing/TestPlatform.js';
import { until } from '../shared/testing/until.js';

/**
 * Service configuration policy end to end: a real management server and node, the policy profile
 * configured through the management REST API and assigned to the node's location, a real HTTP
 * server as the external policy server, callers using the client REST API.
 */
const KEY = 'policy-key';
const POLICY_TIMEOUT_MS = 400;

/** request_token's answer: the token and the conference on success, else a reason (a string). */
type TokenAnswer = { status: string; result: { readonly [field: string]: unknown } | string };

/** The token and participant of a granted request (the parse fails the test when it was refused). */
const granted = (answer: TokenAnswer) => z.looseObject({ token: z.string(), participant_uuid: z.string() }).parse(answer.result);

describe('service configuration policy on a node', () => {
  let platform: TestPlatform;
  let node: NodeAgent;
  let policyServer: Server;
  let policyUrl: string;
  let profileUri: string;
  let locationUri: string;
  /** What the policy server answers; null = never answers. */
  let answer: { status: number; body: unknown } | null = { status: 200, body: { status: 'success', action: 'continue' } };
  /** Per dialled alias answers, taking precedence over `answer`. */
  const byAlias = new Map<string, { status: number; body: unknown }>();
  const requests: Array<{ path: string; query: Record<string, string>; auth: string | undefined }> = [];
  const stalled: ServerResponse[] = [];

  const rest = (method: string, path: string, body?: object) => platform.rest(method, path, body);
  const create = (resource: string, body: object) => platform.create(resource, body);
  // Its own client: the policy request must carry the caller's user agent.
  const client = (alias: string, path: string, init: { pin?: string; token?: string; body?: unknown } = {}) =>
    fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'policy-test/1.0',
        ...(init.pin !== undefined ? { pin: init.pin } : {}),
        ...(init.token ? { token: init.token } : {}),
      },
      body: JSON.stringify(init.body ?? {}),
    });
  const requestToken = async (alias: string, name: string, pin?: string, callTag?: string) => {
    const r = await client(alias, 'request_token', { body: { display_name: name, ...(callTag ? { call_tag: callTag } : {}) }, pin });
    return { status: r.status, body: (await r.json()) as TokenAnswer };
  };
  const release = (alias: string, token: string) => client(alias, 'release_token', { token });
  /** Applies a change to the profile and waits for the node to hold it. */
  const setProfile = async (body: object, ready: () => boolean) => {
    await rest('PATCH', profileUri, body);
    await until(ready, (r) => r);
  };
  const profileOnNode = () => node.manager.location?.policyProfile ?? null;

  beforeAll(async () => {
    policyServer = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url!, 'http://policy');
      requests.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), auth: req.headers.authorization });
      const a = byAlias.get(url.searchParams.get('local_alias') ?? '') ?? answer;
      if (a === null) {
        stalled.push(res);
        return;
      }
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body));
    });
    await new Promise<void>((r) => policyServer.listen(0, '127.0.0.1', r));
    policyUrl = `http://127.0.0.1:${(policyServer.address() as AddressInfo).port}/infinity`;

    platform = await TestPlatform.start({
      server: { enrollmentKey: KEY },
      node: { name: 'policy-node', mediaPortRange: [45000, 45999], policyTimeoutMs: POLICY_TIMEOUT_MS },
    });
    node = platform.node;
    await create('conference', { name: 'Open', aliases: [{ alias: 'open' }] });
    await until(
      () => node.manager.directory.lookup('open'),
      (s) => s !== undefined,
    );

    // The profile, the location using it, and the node in that location — all through the REST API.
    profileUri = await create('policy_server', { name: 'External', url: policyUrl, username: 'pexip', password: 'p0licy-secret', enable_service_lookup: true });
    locationUri = await create('system_location', { name: 'Policy site', policy_server: profileUri });
    const nodes = await (await rest('GET', 'worker_vm/')).json();
    const nodeId = nodes.objects.find((n: { name: string }) => n.name === 'policy-node').id;
    await rest('PATCH', `worker_vm/${nodeId}/`, { system_location: locationUri });
    await until(profileOnNode, (p) => p?.externalServiceLookup === true);
  });
  afterAll(async () => {
    for (const res of stalled) res.destroy();
    policyServer?.closeAllConnections();
    await new Promise((r) => policyServer?.close(r));
    await platform?.stop();
  });
  beforeEach(() => {
    requests.length = 0;
  });

  it('joins callers of an alias the database does not know into one conference configured by the policy server, with its PIN', async () => {
    answer = {
      status: 200,
      body: {
        status: 'success',
        action: 'continue',
        result: { service_type: 'conference', name: 'Policy room', service_tag: 'ext-1', pin: '2468', allow_guests: true, guest_pin: '1357' },
      },
    };
    expect(node.manager.directory.lookup('policy.room')).toBeUndefined();

    const asked = await requestToken('policy.room', 'Ann');
    expect(asked.status).toBe(403);
    expect(asked.body.result).toMatchObject({ pin: 'required', guest_pin: 'required' });
    expect((await requestToken('policy.room', 'Ann', '9999')).body.result).toBe('Invalid PIN');

    const host = await requestToken('policy.room', 'Ann', '2468');
    const guest = await requestToken('policy.room', 'Ben', '1357');
    expect(host.status).toBe(200);
    expect(guest.status).toBe(200);
    expect(host.body.result).toMatchObject({ role: 'HOST', conference_name: 'Policy room' });
    expect(guest.body.result).toMatchObject({ role: 'GUEST', conference_name: 'Policy room' });
    const rooms = node.manager.conferences().filter((c) => c.service.name === 'Policy room');
    expect(rooms).toHaveLength(1);
    expect(rooms[0]!.participants.map((p) => p.displayName).sort()).toEqual(['Ann', 'Ben']);
    // The management server sees it too.
    await until(
      () => platform.server.status.conferences().find((c) => c.name === 'Policy room')?.participants.length,
      (n) => n === 2,
    );
    for (const r of [host, guest]) await release('policy.room', granted(r.body).token);
  });

  it('sends Basic auth and the call parameters Pexip sends', async () => {
    answer = { status: 200, body: { status: 'success', action: 'continue' } };
    const r = await requestToken('open', 'Carol', undefined, 'tag-42');
    expect(r.status).toBe(200);
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req!.path).toBe('/infinity/policy/v1/service/configuration');
    expect(req!.auth).toBe(`Basic ${Buffer.from('pexip:p0licy-secret').toString('base64')}`);
    expect(req!.query).toMatchObject({
      protocol: 'api',
      call_direction: 'dial_in',
      local_alias: 'open',
      remote_alias: 'Carol',
      remote_display_name: 'Carol',
      remote_address: '127.0.0.1',
      node_ip: '127.0.0.1',
      location: 'Policy site',
      version_id: '24',
      trigger: 'web',
      call_tag: 'tag-42',
      registered: 'False',
      bandwidth: '0',
      service_tag: '',
      vendor: 'policy-test/1.0',
    });
    expect(req!.query.pseudo_version_id).toBeTruthy();
    expect(Number(req!.query.remote_port)).toBeGreaterThan(0);
    await release('open', granted(r.body).token);
  });

  it('refuses a call the policy server rejects, even to an alias that exists', async () => {
    answer = { status: 200, body: { status: 'success', action: 'reject' } };
    const r = await requestToken('open', 'Dan');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ status: 'failed', result: 'Neither conference nor gateway found' });
    expect(node.manager.conferences().some((c) => c.service.name === 'Open')).toBe(false);
  });

  it("uses the node's own configuration when the policy server fails or does not answer in time", async () => {
    answer = { status: 500, body: { error: 'boom' } };
    const failed = await requestToken('open', 'Eve');
    expect(failed.status).toBe(200);
    expect(failed.body.result).toMatchObject({ conference_name: 'Open' });

    answer = null;
    const t0 = Date.now();
    const late = await requestToken('open', 'Fay');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(POLICY_TIMEOUT_MS - 50);
    expect(Date.now() - t0).toBeLessThan(POLICY_TIMEOUT_MS + 2_000);
    expect(late.status).toBe(200);
    expect(late.body.result).toMatchObject({ conference_name: 'Open' });
    expect(requests).toHaveLength(2);
    // Both ended up in the one configured conference.
    expect(node.manager.conferences().find((c) => c.service.name === 'Open')!.participants).toHaveLength(2);
    // An unknown alias is still unknown.
    expect((await requestToken('nowhere', 'Gil')).status).toBe(404);
    for (const r of [failed, late]) await release('open', granted(r.body).token);
    answer = { status: 200, body: { status: 'success', action: 'continue' } };
  });

  it('applies a local policy script after the external lookup: renaming with a PIN, and rejecting', async () => {
    answer = { status: 200, body: { status: 'success', action: 'continue' } };
    const rename = `{
      {% if service_config and call_info.local_alias == "open" %}
        "action": "continue",
        "result": {{ service_config|pex_update({"name": "Open (" ~ call_info.location ~ ")", "pin": "8642"})|pex_to_json }}
      {% else %}
        "action": "continue", "result": {{ service_config|pex_to_json }}
      {% endif %}
    }`;
    await setProfile({ enable_internal_service_policy: true, internal_service_policy_template: rename }, () => profileOnNode()?.localServiceScript === rename);
    expect((await requestToken('open', 'Hal')).body.result).toMatchObject({ pin: 'required' });
    const hal = await requestToken('open', 'Hal', '8642');
    const ida = await requestToken('open', 'Ida', '8642');
    expect(hal.body.result).toMatchObject({ role: 'HOST', conference_name: 'Open (Policy site)' });
    expect(node.manager.conferences().filter((c) => c.service.name === 'Open (Policy site)')[0]!.participants).toHaveLength(2);
    // External policy was still asked first.
    expect(requests.length).toBeGreaterThanOrEqual(3);

    const reject = `{% if call_info.remote_display_name == "Mallory" %}{"action": "reject", "result": {}}{% else %}{"action": "continue", "result": {{ service_config|pex_to_json }}}{% endif %}`;
    await setProfile({ internal_service_policy_template: reject }, () => profileOnNode()?.localServiceScript === reject);
    expect((await requestToken('open', 'Mallory')).status).toBe(404);
    const jo = await requestToken('open', 'Jo');
    expect(jo.status).toBe(200);
    expect(jo.body.result).toMatchObject({ conference_name: 'Open' });

    // A broken script is logged and ignored: the configuration found before it is used.
    const broken = `{"action": "continue", "result": {{ service_config|pex_to_json }`;
    await setProfile({ internal_service_policy_template: broken }, () => profileOnNode()?.localServiceScript === broken);
    expect((await requestToken('open', 'Kim')).status).toBe(200);

    for (const [a, r] of [
      ['open', hal],
      ['open', ida],
      ['open', jo],
    ] as const)
      await release(a, granted(r.body).token);
    await setProfile({ enable_internal_service_policy: false }, () => profileOnNode()?.localServicePolicy === false);
  });

  it('resolves the conference number entered in a Virtual Reception through policy too', async () => {
    answer = { status: 200, body: { status: 'success', action: 'continue' } };
    byAlias.set('555', { status: 200, body: { status: 'success', action: 'continue', result: { service_type: 'conference', name: 'Room 555' } } });
    byAlias.set('666', { status: 200, body: { status: 'success', action: 'reject' } });
    await create('conference', { service_type: 'two_stage_dialing', name: 'Lobby', aliases: [{ alias: 'lobby' }] });
    await create('conference', { name: 'Six', aliases: [{ alias: '666' }] });
    await until(
      () => node.manager.directory.lookup('666'),
      (s) => s !== undefined,
    );

    const caller = await requestToken('lobby', 'Nia');
    expect(caller.status).toBe(200);
    const me = granted(caller.body);
    const refers: Array<{ alias: string; token: string }> = [];
    const ac = new AbortController();
    const sse = await fetch(`${node.url}/api/client/v2/conferences/lobby/events?token=${me.token}`, { signal: ac.signal });
    void (async () => {
      const reader = sse.body!.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const m = /^event: refer\ndata: (.*)$/m.exec(buf.slice(0, i));
          buf = buf.slice(i + 2);
          if (m) refers.push(JSON.parse(m[1]!));
        }
      }
    })();
    const dtmf = (digits: string) => client('lobby', `participants/${me.participant_uuid}/dtmf`, { token: me.token, body: { digits } });
    const splash = () => node.manager.byToken(me.token)?.participant.splash?.screen_key;

    // 666 exists in the database, but policy rejects it: an invalid entry.
    expect((await dtmf('666#')).status).toBe(200);
    await until(splash, (k) => k === 'virtual_reception_conference_id_invalid');
    expect(requests.some((r) => r.query.local_alias === '666')).toBe(true);
    // 555 exists only at the policy server: the caller is referred there and joins with the token.
    expect((await dtmf('555#')).status).toBe(200);
    await until(
      () => refers.length,
      (n) => n === 1,
    );
    expect(refers[0]!.alias).toBe('555');
    const moved = await client('555', 'request_token', { body: { display_name: 'Nia', token: refers[0]!.token } });
    expect(moved.status).toBe(200);
    const joined = (await moved.json()).result;
    expect(joined.conference_name).toBe('Room 555');
    ac.abort();
    await release('555', joined.token);
    byAlias.clear();
  });

  it('stops asking once the location no longer has the profile', async () => {
    answer = { status: 200, body: { status: 'success', action: 'reject' } };
    expect((await requestToken('open', 'Lou')).status).toBe(404);
    expect(requests).toHaveLength(1);
    await rest('PATCH', locationUri, { policy_server: null });
    await until(profileOnNode, (p) => p === null);
    const r = await requestToken('open', 'Lou');
    expect(r.status).toBe(200);
    expect(requests).toHaveLength(1);
    await release('open', granted(r.body).token);
  });
});
