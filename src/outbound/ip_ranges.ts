/**
 * Address classification for the SSRF guard, as pure functions over IP
 * literals: which addresses a callback must not reach (loopback, private,
 * link-local, cloud metadata, and the other special-purpose ranges), and
 * CIDR allow-lists. IPv6 forms that carry an IPv4 address (mapped
 * `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`) are judged by that IPv4 address.
 *
 * @module
 */

/** Why an address is refused; null from {@link classifyAddress} means public. */
export type AddressClass =
  | "loopback"
  | "private"
  | "link-local"
  | "metadata"
  | "unspecified"
  | "multicast"
  | "reserved";

/** An address as 16 bytes (IPv4 as `::ffff:a.b.c.d`). */
type Bytes16 = Uint8Array;

/** A parsed CIDR block. */
export interface Cidr {
  readonly bytes: Bytes16;
  /** Prefix length over the 128-bit form. */
  readonly bits: number;
}

/** Parses an IPv4 or IPv6 literal (brackets and a zone id allowed); null if it is not one. */
export function parseIp(text: string): Bytes16 | null {
  let s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const v4 = parseIpv4(s);
  if (v4 !== null) return mapped(v4);
  return parseIpv6(s);
}

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(s: string): Bytes16 | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (i === pieces.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (v4 === null) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function mapped(v4: Uint8Array): Bytes16 {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

/**
 * Parses `a.b.c.d/n` or `v6/n` (a bare address is a single host).
 *
 * @throws {RangeError} when it is not a CIDR block
 */
export function parseCidr(text: string): Cidr {
  const [addr, len, ...rest] = text.trim().split("/");
  const bytes = addr === undefined ? null : parseIp(addr);
  const isV4 = addr !== undefined && parseIpv4(addr) !== null;
  const max = isV4 ? 32 : 128;
  const n = len === undefined ? max : /^[0-9]{1,3}$/.test(len) ? Number(len) : NaN;
  if (bytes === null || rest.length > 0 || !(n >= 0 && n <= max)) {
    throw new RangeError(`Invalid CIDR block "${text}": expected e.g. 10.0.0.0/8 or fd00::/8`);
  }
  return { bytes, bits: isV4 ? n + 96 : n };
}

/** Whether `address` (16 bytes) lies in `cidr`. */
function inBlock(address: Bytes16, cidr: Cidr): boolean {
  let bits = cidr.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
  }
  return true;
}

// Most specific first: the first match names the class.
const RANGES: readonly [string, AddressClass][] = [
  ["169.254.169.254/32", "metadata"], // AWS, GCP, Azure, OpenStack, DigitalOcean
  ["169.254.170.2/32", "metadata"], // AWS ECS task metadata
  ["100.100.100.200/32", "metadata"], // Alibaba Cloud
  ["fd00:ec2::254/128", "metadata"], // AWS over IPv6
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "private"], // carrier-grade NAT
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"], // IETF protocol assignments
  ["192.0.2.0/24", "reserved"], // documentation
  ["192.88.99.0/24", "reserved"], // 6to4 relay anycast
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"], // benchmarking
  ["198.51.100.0/24", "reserved"],
  ["203.0.113.0/24", "reserved"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"], // includes 255.255.255.255
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["64:ff9b:1::/48", "private"], // local-use NAT64
  ["100::/64", "reserved"], // discard-only
  ["2001:db8::/32", "reserved"], // documentation
  ["fc00::/7", "private"], // unique local
  ["fe80::/10", "link-local"],
  ["fec0::/10", "private"], // deprecated site-local
  ["ff00::/8", "multicast"],
];
const BLOCKS: readonly [Cidr, AddressClass][] = RANGES.map(([c, k]) => [parseCidr(c), k]);

/**
 * The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64
 * well-known prefix, 6to4), as 16 mapped bytes; null when it carries none.
 */
export function embeddedIpv4(address: Bytes16): Bytes16 | null {
  const zero = (from: number, to: number) => address.subarray(from, to).every((b) => b === 0);
  if (zero(0, 10) && address[10] === 0xff && address[11] === 0xff) return null; // already IPv4
  if (zero(0, 12) && !zero(12, 16) && !(zero(12, 15) && address[15] === 1)) {
    return mapped(address.subarray(12, 16)); // ::a.b.c.d (deprecated compatible form)
  }
  if (address[0] === 0x00 && address[1] === 0x64 && address[2] === 0xff && address[3] === 0x9b) {
    if (zero(4, 12)) return mapped(address.subarray(12, 16)); // 64:ff9b::/96
  }
  if (address[0] === 0x20 && address[1] === 0x02) return mapped(address.subarray(2, 6)); // 2002::/16
  return null;
}

/** Why `address` (a literal) must not be reached, or null for a public address. */
export function classifyAddress(address: string): AddressClass | null {
  const bytes = parseIp(address);
  if (bytes === null) throw new RangeError(`Not an IP address: "${address}"`);
  return classifyBytes(bytes);
}

function classifyBytes(bytes: Bytes16): AddressClass | null {
  const inner = embeddedIpv4(bytes);
  if (inner !== null) return classifyBytes(inner);
  for (const [block, kind] of BLOCKS) if (inBlock(bytes, block)) return kind;
  return null;
}

/** Whether `address` (a literal) lies in any of `allow` (its embedded IPv4 counts too). */
export function isAllowed(address: string, allow: readonly Cidr[]): boolean {
  const bytes = parseIp(address);
  if (bytes === null) return false;
  const inner = embeddedIpv4(bytes);
  return allow.some((c) => inBlock(bytes, c) || (inner !== null && inBlock(inner, c)));
}
