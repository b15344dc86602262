// The web test host's guards: token on every request, Host header, numeric ids only, contract methods only.
import { expect, test } from '@playwright/test';

const url = () => new URL(process.env.SIFT_E2E_URL!);

test('the web host refuses requests without the token and paths from the client', async ({ request }) => {
  const u = url();
  const token = u.searchParams.get('token')!;
  const origin = u.origin;
  expect((await request.get(`${origin}/`)).status()).toBe(401);
  expect((await request.get(`${origin}/?token=wrong-${token}`)).status()).toBe(401);
  expect((await request.post(`${origin}/api/call`, { data: { name: 'library.status', input: {} } })).status()).toBe(401);
  expect((await request.get(`${origin}/thumb/1`)).status()).toBe(401);

  const h = { 'x-sift-token': token };
  const ok = await request.post(`${origin}/api/call`, { headers: h, data: { name: 'library.status', input: {} } });
  expect(ok.status()).toBe(200);
  expect((await ok.json()).ok).toBe(true);
  // unknown method, bad input: clear errors, nothing run
  const unknown = await request.post(`${origin}/api/call`, { headers: h, data: { name: 'fs.readFile', input: { path: '/etc/passwd' } } });
  expect(unknown.status()).toBe(404);
  expect((await unknown.json()).error).toContain('Unknown API method');
  const bad = await request.post(`${origin}/api/call`, { headers: h, data: { name: 'library.photo', input: { id: '../../etc/passwd' } } });
  expect(bad.status()).toBe(400);
  expect((await bad.json()).error).toContain('Invalid input for library.photo');
  // media by numeric id only; traversal attempts never reach the file system
  for (const p of ['/thumb/..%2F..%2Fetc%2Fpasswd', '/photo/%2Fetc%2Fpasswd', '/photo/1e3', '/thumb/-1']) {
    const r = await request.get(`${origin}${p}`, { headers: h });
    expect(r.status(), p).toBe(400);
  }
  expect((await request.get(`${origin}/photo/999999`, { headers: h })).status()).toBe(404);
  const trav = await request.get(`${origin}/..%2F..%2Fpackage.json`, { headers: h });
  expect(await trav.text()).not.toContain('"name": "sift"');
  // DNS rebinding: a foreign Host header is refused even with the token
  expect((await request.get(`${origin}/?token=${token}`, { headers: { host: 'evil.example:80' } })).status()).toBe(421);
});
