/**
 * The admin page in a real headless Chromium (Debian's `/usr/bin/chromium`,
 * or `CHROMIUM_BIN`), driven by puppeteer-core (which never downloads a
 * browser): signing in, a wrong token, filtering, paging, removing a url.
 * Screenshots go to `test-output/` (ignored by git).
 */

import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { notifyOver, startBroadcaster, type TestBroadcaster } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_BIN") ?? "/usr/bin/chromium";
const OUTPUT = fileURLToPath(new URL("../test-output/", import.meta.url));
const TOKEN = "admin-s3cret";
const TOPIC = new TextEncoder().encode("orders/created");

async function withBrowser(fn: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  try {
    await fn(browser);
  } finally {
    await browser.close();
  }
}

async function seed(tb: TestBroadcaster, sub: TestSubscriber): Promise<void> {
  const store = tb.broadcaster.store;
  for (const path of ["/dead", "/ok"]) {
    assert.equal(await store.subscribeExact(sub.url(path), TOPIC, null), "success");
  }
  assert.equal(await store.subscribeGlob(sub.url("/dead"), "orders/*", null), "success");
  // Enough quiet rows for several pages.
  for (let i = 0; i < 120; i++) {
    await store.subscribeExact(
      `http://127.0.0.1:9/quiet/${i}`,
      new TextEncoder().encode(`t/${i}`),
      null,
    );
  }
  await notifyOver(tb.url, TOPIC, new Uint8Array([1]));
  await tb.broadcaster.flushStats();
}

async function signIn(page: Page, base: string, token: string): Promise<number> {
  await page.goto(`${base}/admin`);
  await page.type("#token", token);
  const [res] = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  return res?.status() ?? 0;
}

Deno.test("admin page in Chromium: signs in once, filters, pages, removes a url and refuses a wrong token", async () => {
  await mkdir(OUTPUT, { recursive: true });
  await using sub = new TestSubscriber((path) =>
    path === "/dead" ? { kind: "fail500" } : { kind: "confirm" }
  );
  await using tb = await startBroadcaster({
    operations: { admin: true, adminToken: TOKEN },
    subscriptions: { statsFlushIntervalMs: 3_600_000 },
  });
  await seed(tb, sub);
  await withBrowser(async (browser) => {
    const page = await browser.newPage();
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });

    // A wrong token is refused, and no cookie is set.
    assert.equal(await signIn(page, tb.url, "wrong"), 401);
    assert.match(await page.$eval("[role=alert]", (e) => e.textContent ?? ""), /Wrong token/);
    assert.deepEqual(await page.cookies(), []);

    // The right one: an HttpOnly, SameSite=Strict cookie, then the page.
    assert.equal(await signIn(page, tb.url, TOKEN), 200);
    const [cookie] = await page.cookies();
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, "Strict");
    assert.equal(cookie?.value.includes(TOKEN), false);
    const text = (sel: string) =>
      page.$eval(sel, (e) => (e as unknown as { innerText: string }).innerText);
    assert.match(await text("#total-exact"), /122/);
    assert.match(await text("#total-glob"), /1/);
    assert.match(await text("#total-failing"), /1/);
    assert.match(await text("#total-minute"), /3 \/ 2/);
    // Failing urls first, in their own table and at the top of the big one.
    assert.match(await text("#failing tbody tr:first-child"), /\/dead/);
    assert.match(await text("#subscriptions tbody tr:first-child"), /\/dead/);
    assert.match(await text("#page-info"), /Page 1 of 3 \(123 subscriptions\)/);
    await page.screenshot({ path: `${OUTPUT}admin-phone.png`, fullPage: true });

    // The page is kept: a reload needs no token.
    await page.reload();
    assert.match(await text("#page-info"), /Page 1 of 3/);

    // Paging.
    await Promise.all([page.waitForNavigation(), page.click("nav.pages a")]);
    assert.match(await text("#page-info"), /Page 2 of 3/);

    // Filtering.
    await page.type("input[name=q]", "dead");
    await Promise.all([page.waitForNavigation(), page.click("form.filter button")]);
    assert.match(await text("#page-info"), /\(2 subscriptions\)/);
    const urls = await page.$$eval("#subscriptions td.url", (tds) => tds.map((t) => t.textContent));
    assert.deepEqual(urls, [sub.url("/dead"), sub.url("/dead")]);

    // Removing, after a confirmation (declined first, then accepted).
    let answer = false;
    page.on("dialog", (d) => void (answer ? d.accept() : d.dismiss()));
    await page.click("#subscriptions button.remove");
    const still = await tb.broadcaster.store.listSubscriptions(sub.url("/dead"));
    assert.ok(still !== "unavailable" && still.exacts.length === 1, "declined: nothing removed");
    answer = true;
    await Promise.all([page.waitForNavigation(), page.click("#subscriptions button.remove")]);
    assert.match(await text("[role=status]"), /Removed 2 subscriptions of .*\/dead/);
    assert.deepEqual(await tb.broadcaster.store.listSubscriptions(sub.url("/dead")), {
      exacts: [],
      globs: [],
    });
    assert.match(await text("#audit tbody"), /\/dead\s+admin\s+1\s+1/);
    await page.type("input[name=q]", "dead");
    await Promise.all([page.waitForNavigation(), page.click("form.filter button")]);
    assert.match(await text("#page-info"), /\(0 subscriptions\)/);
    assert.match(await text("#total-failing"), /0/);

    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${tb.url}/admin`);
    await page.screenshot({ path: `${OUTPUT}admin-desktop.png`, fullPage: true });
  });
});

Deno.test("admin page: off by default, no cross-origin removal, no removal without signing in", async () => {
  {
    await using off = await startBroadcaster();
    const res = await fetch(`${off.url}/admin`);
    await res.body?.cancel();
    assert.equal(res.status, 404);
  }
  await using tb = await startBroadcaster({ operations: { admin: true, metricsToken: TOKEN } });
  await tb.broadcaster.store.subscribeExact("http://127.0.0.1:9/x", TOPIC, null);
  const form = (headers: Record<string, string>) =>
    fetch(`${tb.url}/admin/remove`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: "url=" + encodeURIComponent("http://127.0.0.1:9/x"),
    }).then(async (r) => (await r.body?.cancel(), r.status));
  const bearer = { authorization: `Bearer ${TOKEN}` };
  assert.equal(await form({ ...bearer, origin: "http://evil.example" }), 403);
  assert.equal(await form({ ...bearer }), 403); // no Origin, no Sec-Fetch-Site
  assert.equal(await form({ origin: new URL(tb.url).origin }), 401);
  const get = await fetch(`${tb.url}/admin/remove`, { headers: bearer });
  await get.body?.cancel();
  assert.equal(get.status, 405);
  // The metrics token opens it when it has no token of its own.
  const page = await fetch(`${tb.url}/admin`, { headers: bearer });
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  assert.match(await page.text(), /lonelypss admin/);
  assert.equal(await form({ ...bearer, origin: new URL(tb.url).origin }), 303);
  assert.deepEqual(await tb.broadcaster.store.listSubscriptions("http://127.0.0.1:9/x"), {
    exacts: [],
    globs: [],
  });
});
