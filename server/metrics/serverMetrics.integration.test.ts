import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';

/** Who may read the management server's /metrics, and what it counts, with a real node enrolled. */
const TOKEN = 'server-metrics-token-abcdef';

describe("the management server's /metrics", () => {
  let platform: TestPlatform;
  const metrics = (headers: Record<string, string> = {}) => fetch(`${platform.server.url}/metrics`, { headers });
  const text = async () => {
    const r = await metrics();
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    return r.text();
  };
  /** A sample's value (first matching line). */
  const sample = (body: string, series: string) => {
    const line = body.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  beforeAll(async () => {
    platform = await TestPlatform.start({ server: { metricsToken: TOKEN }, node: { name: 'metrics-node', mediaPortRange: [48200, 48299] } });
  }, 60_000);
  afterAll(() => platform?.stop());

  it('answers a local Prometheus, the bearer token, and administrators who may view status; refuses others', async () => {
    // From another machine (as a reverse proxy on this one says): only the token or an administrator.
    const remote = { 'x-forwarded-for': '203.0.113.5' };
    expect((await metrics(remote)).status).toBe(401);
    expect((await metrics({ ...remote, authorization: 'Bearer wrong-token' })).status).toBe(401);
    expect((await metrics({ ...remote, authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await metrics({ ...remote, authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` })).status).toBe(200);
    const role = await platform.rest('POST', 'role/', { name: 'api only', permissions: ['is_administrator', 'may_use_api'] });
    await platform.rest('POST', 'user/', {
      username: 'nostatus',
      password: 'nostatus-pw-1',
      password_confirm: 'nostatus-pw-1',
      roles: [role.headers.get('location')],
    });
    expect((await metrics({ ...remote, authorization: `Basic ${Buffer.from('nostatus:nostatus-pw-1').toString('base64')}` })).status).toBe(401);
    // Not the console's page: Prometheus text.
    expect(await text()).toContain('# TYPE openmeet_conferences gauge');
  });

  it('counts live conferences and participants, nodes, configuration push latency and HTTP requests', async () => {
    let body = await text();
    expect(sample(body, 'openmeet_conferences')).toBe(0);
    expect(sample(body, 'openmeet_nodes_connected')).toBe(1);
    expect(sample(body, 'openmeet_nodes_configured')).toBe(1);
    expect(sample(body, 'openmeet_node_reachable{node="metrics-node"}')).toBe(1);
    const pushesBefore = sample(body, 'openmeet_config_push_seconds_count') ?? 0;

    await platform.rest('POST', 'conference/', { name: 'Counted room', aliases: [{ alias: 'counted' }], pin: '1234', allow_guests: true, guest_pin: '' });
    await until(
      () => platform.node.manager.directory.lookup('counted'),
      (s) => s !== undefined,
    );
    body = await until(text, (b) => (sample(b, 'openmeet_config_push_seconds_count') ?? 0) > pushesBefore);
    expect(sample(body, 'openmeet_config_push_seconds_sum')).toBeGreaterThan(0);

    for (const [name, pin] of [
      ['Hanna', '1234'],
      ['Gus', 'none'],
      ['Gail', 'none'],
    ])
      expect((await platform.client('counted', 'request_token', { pin, body: { display_name: name } })).status).toBe(200);
    body = await until(text, (b) => sample(b, 'openmeet_conferences') === 1 && sample(b, 'openmeet_participants{protocol="api",role="guest"}') === 2);
    expect(sample(body, 'openmeet_participants{protocol="api",role="chair"}')).toBe(1);
    // Requests by route pattern, never by raw URL.
    expect(body).toMatch(
      /openmeet_http_request_duration_seconds_count\{method="POST",route="\/api\/admin\/configuration\/v1\/conference\/",status_code="201"\} [1-9]/,
    );
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });
});
