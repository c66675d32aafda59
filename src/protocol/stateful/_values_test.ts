import assert from "node:assert/strict";
import { fromHex, toHex } from "../bytes.ts";
import { assertParseError, ITERATIONS, Rand } from "../_testing.ts";
import {
  readAuth,
  readBigUint,
  readFlag,
  readI16,
  readUint,
  writeAuth,
  writeBigUint,
  writeFixed,
  writeI16,
  writeUint,
} from "./_values.ts";
import { assertRangeError, safeInt, u64 } from "./_testing.ts";

Deno.test("values uint: minimal big-endian, 0 empty (or 00 when asked)", () => {
  const cases: [number, string][] = [
    [0, ""],
    [1, "01"],
    [255, "ff"],
    [256, "0100"],
    [65_536, "010000"],
    [2 ** 32, "0100000000"],
    [Number.MAX_SAFE_INTEGER, "1fffffffffffff"],
  ];
  for (const [n, hex] of cases) {
    assert.equal(toHex(writeUint(n, 8, "x")), hex, `${n}`);
    assert.equal(readUint(fromHex(hex), 8, "x"), n);
    assert.equal(readUint(fromHex(`00${hex}`), 8, "x"), n);
  }
  assert.equal(toHex(writeUint(0, 8, "x", true)), "00");
  assert.equal(toHex(writeUint(7, 8, "x", true)), "07");
  assert.equal(toHex(writeUint(0xffffffff, 4, "x")), "ffffffff");
  assertRangeError(() => writeUint(2 ** 32, 4, "x-min-size"), /x-min-size/);
  for (const bad of [-1, 0.5, 2 ** 53, Infinity, NaN]) {
    assertRangeError(() => writeUint(bad, 8, "x"));
  }
  assertParseError(() => readUint(new Uint8Array(5), 4, "x-num-subscribers"), /x-num-subscribers/);
  assertParseError(() => readUint(fromHex("20000000000000"), 8, "x"), /too large/);
});

Deno.test("values bigint uint: all 64 bits, minimal, at most 8 bytes", () => {
  for (
    const [n, hex] of [[0n, ""], [23n, "17"], [2n ** 53n, "20000000000000"], [
      2n ** 64n - 1n,
      "ffffffffffffffff",
    ]] as const
  ) {
    assert.equal(toHex(writeBigUint(n, "x")), hex);
    assert.equal(readBigUint(fromHex(hex), 8, "x"), n);
  }
  assert.equal(readBigUint(fromHex("0000000000000001"), 8, "x"), 1n);
  assertParseError(() => readBigUint(new Uint8Array(9), 8, "x-max-size"), /x-max-size/);
  assertRangeError(() => writeBigUint(-1n, "x"));
  assertRangeError(() => writeBigUint(2n ** 64n, "x"));
});

Deno.test("values fixed widths and i16", () => {
  assert.equal(toHex(writeFixed(1, 4, "x")), "00000001");
  assert.equal(toHex(writeFixed(0, 2, "x")), "0000");
  assert.equal(toHex(writeFixed(0, 1, "x")), "00");
  assertRangeError(() => writeFixed(0x10000, 2, "x"));
  for (
    const [n, hex] of [[0, "0000"], [3, "0003"], [-1, "ffff"], [-32_768, "8000"], [
      32_767,
      "7fff",
    ]] as const
  ) {
    assert.equal(toHex(writeI16(n, "x")), hex);
    assert.equal(readI16(fromHex(hex), "x"), n);
  }
  assertParseError(() => readI16(fromHex("03"), "x-compression-level"), /x-compression-level/);
});

Deno.test("values auth and flags", () => {
  assert.equal(readAuth(new Uint8Array(0)), null);
  assert.equal(readAuth(fromHex("41")), "A");
  assertParseError(() => readAuth(fromHex("ff")), /authorization/);
  assert.equal(writeAuth(null).length, 0);
  assert.equal(writeAuth("").length, 0);
  assert.equal(readFlag(fromHex("01")), true);
  for (const hex of ["", "00", "02", "0101", "0001"]) assert.equal(readFlag(fromHex(hex)), false);
});

Deno.test("values property: random uints round-trip", () => {
  const rand = new Rand(77);
  for (let i = 0; i < ITERATIONS; i++) {
    const n = safeInt(rand);
    assert.equal(readUint(writeUint(n, 8, "x"), 8, "x"), n);
    const b = u64(rand);
    const bytes = writeBigUint(b, "x");
    assert.equal(readBigUint(bytes, 8, "x"), b);
    assert.ok(bytes.length === 0 || bytes[0] !== 0, `${b} written with a leading zero`);
    assert.equal(bytes.length === 0, b === 0n);
  }
});
