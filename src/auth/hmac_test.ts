import assert from "node:assert/strict";
import vectors from "../../tests/vectors/auth.json" with { type: "json" };
import { fromHex } from "../protocol/mod.ts";
import { messageFromInputs, operationType } from "./_testing.ts";
import { decodeHmacSecret, hmacAuth } from "./hmac.ts";
import { memoryReplayStore, type ReplayStore } from "./replay_store.ts";
import type { AuthMessageType, AuthResult } from "./types.ts";

const H = vectors.hmac;
const SECRETS: Record<string, Uint8Array> = {
  to_broadcaster: fromHex(H.to_broadcaster_secret_hex),
  to_subscriber: fromHex(H.to_subscriber_secret_hex),
};

function strategy(secret: Uint8Array, nonce?: string, replay: ReplayStore = memoryReplayStore()) {
  return hmacAuth({ secret, replay, ...(nonce === undefined ? {} : { nonce: () => nonce }) });
}

for (const v of H.vectors) {
  Deno.test(`hmac ${v.operation}: authorize reproduces the reference text, verify is ok once`, async () => {
    const auth = strategy(SECRETS[v.direction]!, v.nonce);
    const type = v.message_type.toLowerCase() as AuthMessageType;
    const msg = messageFromInputs(type, v.inputs);
    const tracing = fromHex(v.inputs.tracing_hex);
    assert.equal(await auth.authorize(msg, tracing, v.now), v.authorization);
    assert.equal(await auth.verify(msg, tracing, v.authorization, v.now), "ok");
    assert.equal(v.verify_result, "OK");
    assert.equal(await auth.verify(msg, tracing, v.authorization, v.now), "forbidden");
    assert.equal(v.verify_again_same_store_result, "FORBIDDEN");
    await auth.close();
  });
}

// Rows where the reference is lenient and we are deliberately strict
// (docs/decisions.md#strict-parsing); every other row keeps the reference's answer.
function expected(row: { description: string; result: string }): AuthResult {
  if (row.description.startsWith("quirk: code without its == padding")) return "ok";
  if (row.description.startsWith("quirk:")) return "forbidden";
  if (row.result.startsWith("exception")) return "forbidden";
  return row.result.toLowerCase() as AuthResult;
}

for (const row of H.failures) {
  const want = expected(row);
  const strict = row.description.startsWith("quirk:") && want === "forbidden"
    ? " (strict: the reference accepts this form)"
    : row.result.startsWith("exception")
    ? " (strict: the reference throws)"
    : "";
  Deno.test(`hmac verify ${row.direction}: ${row.description} → ${want}${strict}`, async () => {
    const auth = strategy(decodeHmacSecret(row.verifier_secret_text));
    const msg = messageFromInputs(operationType(row.operation), row.inputs);
    const tracing = fromHex(row.inputs.tracing_hex);
    if (row.replayed_first) {
      // The control row for the same operation was used first on this store.
      const control = H.failures.find((f) =>
        f.operation === row.operation && f.description.includes("control")
      )!;
      assert.equal(await auth.verify(msg, tracing, control.authorization, row.now), "ok");
    }
    assert.equal(await auth.verify(msg, tracing, row.authorization, row.now), want);
    await auth.close();
  });
}

const MSG = { type: "check_subscriptions", url: "http://127.0.0.1:3002/v1/receive" } as const;
const NO_TRACING = new Uint8Array();
const NOW = 1700000000.75;

async function signed(now = NOW, nonce = "abcdef"): Promise<string> {
  const auth = strategy(SECRETS.to_broadcaster!, nonce);
  const text = (await auth.authorize(MSG, NO_TRACING, now))!;
  await auth.close();
  return text;
}

Deno.test("hmac authorize uses a fresh 6-character base64url nonce each time", async () => {
  const auth = strategy(SECRETS.to_broadcaster!);
  const a = (await auth.authorize(MSG, NO_TRACING, NOW))!;
  const b = (await auth.authorize(MSG, NO_TRACING, NOW))!;
  assert.match(a, /^X-HMAC 1700000000:[A-Za-z0-9_-]{6}:[A-Za-z0-9+/]{86}==$/);
  assert.notEqual(a, b);
  assert.equal(await auth.verify(MSG, NO_TRACING, a, NOW), "ok");
  assert.equal(await auth.verify(MSG, NO_TRACING, b, NOW), "ok");
  await auth.close();
});

Deno.test("hmac authorize refuses a field too long to sign, naming the operation", async () => {
  const auth = strategy(SECRETS.to_broadcaster!);
  await assert.rejects(
    auth.authorize({ type: "check_subscriptions", url: "u".repeat(65536) }, NO_TRACING, NOW),
    (e: Error) =>
      e instanceof RangeError && e.message.startsWith("Cannot authorize check_subscriptions:"),
  );
  await auth.close();
});

Deno.test("hmac verify answers forbidden for a url too long to sign", async () => {
  const auth = strategy(SECRETS.to_broadcaster!);
  const long = { type: "check_subscriptions", url: "u".repeat(70000) } as const;
  assert.equal(await auth.verify(long, NO_TRACING, await signed(), NOW), "forbidden");
  await auth.close();
});

Deno.test("hmac verify rejects non-canonical timestamps and accepts 0", async () => {
  const auth = strategy(SECRETS.to_broadcaster!);
  const good = await signed(0.5);
  const rest = good.slice("X-HMAC 0".length);
  for (const ts of ["00", "-0", " 0", "0 ", "+0", "0x0", "0.0", "", "1e0", "٠"]) {
    assert.equal(await auth.verify(MSG, NO_TRACING, `X-HMAC ${ts}${rest}`, 0.5), "forbidden", ts);
  }
  assert.equal(await auth.verify(MSG, NO_TRACING, good, 0.5), "ok");
  const huge = "X-HMAC 12345678901234567" + rest;
  assert.equal(await auth.verify(MSG, NO_TRACING, huge, 12345678901234567), "forbidden");
  await auth.close();
});

Deno.test("hmac verify rejects codes that are not exactly 64 bytes of standard base64", async () => {
  const auth = strategy(SECRETS.to_broadcaster!);
  const good = await signed();
  const head = good.slice(0, good.lastIndexOf(":") + 1);
  const code = good.slice(head.length);
  for (
    const bad of [
      code + "=",
      code.slice(0, 87),
      " " + code,
      code.slice(0, 86) + "\n",
      code + "AAAA",
    ]
  ) {
    assert.equal(await auth.verify(MSG, NO_TRACING, head + bad, NOW), "forbidden", bad);
  }
  // A non-canonical last character (unused bits set) decodes to the same bytes: still refused.
  const last = code[85]!;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const sibling = alphabet[alphabet.indexOf(last) + 1]!;
  assert.equal(
    await auth.verify(MSG, NO_TRACING, head + code.slice(0, 85) + sibling + "==", NOW),
    "forbidden",
  );
  assert.equal(await auth.verify(MSG, NO_TRACING, good, NOW), "ok");
  await auth.close();
});

Deno.test("hmac verify: missing padding is the same code, so it is caught as a replay", async () => {
  const auth = strategy(SECRETS.to_broadcaster!);
  const good = await signed();
  assert.equal(await auth.verify(MSG, NO_TRACING, good.slice(0, -2), NOW), "ok");
  assert.equal(await auth.verify(MSG, NO_TRACING, good, NOW), "forbidden");
  await auth.close();
});

Deno.test("hmac verify accepts any nonce up to 255 UTF-8 bytes and no longer", async () => {
  const auth = strategy(SECRETS.to_broadcaster!);
  for (const nonce of ["", "é".repeat(127) + "x"]) {
    assert.equal(await auth.verify(MSG, NO_TRACING, await signed(NOW, nonce), NOW), "ok", nonce);
  }
  const long = "é".repeat(128);
  const text = "X-HMAC 1700000000:" + long + ":" + (await signed()).split(":")[2];
  assert.equal(await auth.verify(MSG, NO_TRACING, text, NOW), "forbidden");
  await auth.close();
});

Deno.test("hmac verify maps replay-store failures to unavailable", async () => {
  const good = await signed();
  const down: ReplayStore = {
    markUsed: () => Promise.resolve("unavailable"),
    close: () => Promise.resolve(),
  };
  const throwing: ReplayStore = {
    markUsed: () => Promise.reject(new Error("disk on fire")),
    close: () => Promise.resolve(),
  };
  for (const store of [down, throwing]) {
    const auth = hmacAuth({ secret: SECRETS.to_broadcaster!, replay: store });
    assert.equal(await auth.verify(MSG, NO_TRACING, good, NOW), "unavailable");
    // A wrong code never reaches the store.
    assert.equal(await auth.verify(MSG, NO_TRACING, good.replace("X", "Y"), NOW), "forbidden");
  }
});

Deno.test("hmac verify records the code with an expiry covering the whole window", async () => {
  const calls: number[] = [];
  const spy: ReplayStore = {
    markUsed: (_c, exp) => (calls.push(exp), Promise.resolve("fresh")),
    close: () => Promise.resolve(),
  };
  const auth = hmacAuth({ secret: SECRETS.to_broadcaster!, replay: spy });
  assert.equal(await auth.verify(MSG, NO_TRACING, await signed(), NOW - 120), "ok");
  assert.ok(calls[0]! > 1700000000 + 120, `expiry ${calls[0]} must outlive the window`);
  assert.ok(calls[0]! >= NOW - 120 + 240, `expiry ${calls[0]} must be ≥ 2 lifetimes after use`);
});

Deno.test("hmacAuth refuses a secret that is not 64 bytes", () => {
  assert.throws(
    () => hmacAuth({ secret: new Uint8Array(32), replay: memoryReplayStore() }),
    /Invalid hmac secret: 32 bytes, expected 64/,
  );
});

// Deterministic PRNG so a failure is reproducible.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("hmac verify fuzz: 2,000 random or mutated texts never throw and never pass", async () => {
  const rand = mulberry32(0x5eed);
  const pick = (s: string) => s[Math.floor(rand() * s.length)]!;
  const CHARS = "X-HMAC 0123456789:+/=_-abcXYZé☃\u0000\n\ud800";
  const good = await signed();
  const auth = strategy(SECRETS.to_broadcaster!);
  for (let i = 0; i < 2000; i++) {
    let text: string;
    const mode = i % 4;
    if (mode === 0) {
      text = "";
      const n = Math.floor(rand() * 120);
      for (let j = 0; j < n; j++) text += pick(CHARS);
    } else if (mode === 1) {
      // Well-formed shape, random code.
      let code = "";
      for (let j = 0; j < 86; j++) {
        code += pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/");
      }
      text = `X-HMAC ${Math.floor(NOW - 130 + rand() * 260)}:${pick("abc")}:${code}==`;
    } else if (mode === 2) {
      // One substituted character anywhere in a valid text.
      const at = Math.floor(rand() * good.length);
      let c = pick(CHARS + "ABCDEFGHIJ");
      if (c === good[at]) c = c === "A" ? "B" : "A";
      text = good.slice(0, at) + c + good.slice(at + 1);
    } else {
      // Truncations and extensions of a valid text (excluding the padding-only cut).
      const cut = Math.floor(rand() * (good.length - 2));
      text = rand() < 0.5 ? good.slice(0, cut) : good + pick(CHARS);
    }
    const result = await auth.verify(MSG, NO_TRACING, text, NOW);
    assert.notEqual(result, "ok", text);
    assert.ok(result === "forbidden", `${result} for ${JSON.stringify(text)}`);
  }
  await auth.close();
});
