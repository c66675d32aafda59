import assert from "node:assert/strict";
import { classifyAddress, isAllowed, parseCidr, parseIp } from "./ip_ranges.ts";

Deno.test("IPv4 addresses are classified by range", () => {
  const cases: [string, string | null][] = [
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", null],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["169.254.1.1", "link-local"],
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["100.100.100.200", "metadata"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["198.18.0.1", "reserved"],
    ["8.8.8.8", null],
    ["1.1.1.1", null],
    ["93.184.216.34", null],
  ];
  for (const [address, expected] of cases) {
    assert.equal(classifyAddress(address), expected, address);
  }
});

Deno.test("IPv6 addresses are classified by range, embedded IPv4 by its IPv4 address", () => {
  const cases: [string, string | null][] = [
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["2606:4700:4700::1111", null],
    // Mapped, compatible, NAT64 and 6to4 forms of IPv4 addresses.
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:8.8.8.8", null],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["64:ff9b::8.8.8.8", null],
    ["2002:7f00:1::", "loopback"],
    ["2002:c0a8:101::1", "private"],
  ];
  for (const [address, expected] of cases) {
    assert.equal(classifyAddress(address), expected, address);
  }
});

Deno.test("parseIp refuses what is not an address", () => {
  for (
    const bad of ["localhost", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1::2::3", "::g", ""]
  ) {
    assert.equal(parseIp(bad), null, bad);
  }
  assert.deepEqual(parseIp("1:2:3:4:5:6:7:8")!.length, 16);
  assert.equal(parseIp("1:2:3:4:5:6:7:8:9"), null);
});

Deno.test("allow-lists match IPv4, IPv6 and mapped addresses", () => {
  const allow = ["127.0.0.0/8", "10.1.0.0/16", "fd00::/8"].map(parseCidr);
  assert.ok(isAllowed("127.0.0.1", allow));
  assert.ok(isAllowed("::ffff:127.0.0.1", allow));
  assert.ok(isAllowed("10.1.200.3", allow));
  assert.ok(!isAllowed("10.2.0.1", allow));
  assert.ok(isAllowed("fd12::1", allow));
  assert.ok(!isAllowed("::1", allow));
  assert.ok(isAllowed("192.168.0.7", [parseCidr("192.168.0.7")]), "a bare address is one host");
  assert.ok(isAllowed("8.8.8.8", [parseCidr("0.0.0.0/0")]));
  for (const bad of ["10.0.0.0/33", "fd00::/129", "nope/8", "10.0.0.0/8/1", "10.0.0.0/x"]) {
    assert.throws(() => parseCidr(bad), RangeError, bad);
  }
});
