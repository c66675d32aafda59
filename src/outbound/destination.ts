/**
 * The SSRF guard (beyond the reference; off by default): a delivery may only
 * reach a public address, or one inside an allow-list of CIDR blocks. The
 * check is made at delivery time on the address the host resolves to, and
 * where the runtime allows (Deno) the connection is pinned to that address,
 * so DNS rebinding (a public answer at subscribe time, a private one later,
 * or between our look-up and the connect) cannot slip through.
 *
 * @module
 */

import type { OutboundGuard, OutboundRoute, PinFactory } from "../core/outbound.ts";
import { classifyAddress, isAllowed, parseCidr, parseIp } from "./ip_ranges.ts";

/** Resolves a host name to its addresses, in the resolver's order. */
export type Resolver = (host: string) => Promise<string[]>;

/** What {@link ssrfGuard} needs. */
export interface SsrfGuardOptions {
  /** CIDR blocks a deployment trusts (e.g. its own private network). */
  readonly allow?: readonly string[];
  /** Pins connections to the checked address; null where the runtime cannot. */
  readonly pin: PinFactory | null;
  /** Name resolution (default: the system resolver, as fetch uses it). */
  readonly resolve?: Resolver;
  /** Told about every refusal (metrics, logs). */
  readonly onRefuse?: (url: URL, reason: string) => void;
}

/**
 * A guard refusing loopback, private, link-local, metadata and other
 * special-purpose addresses outside `allow`.
 *
 * @throws {RangeError} for an allow-list entry that is not a CIDR block
 */
export function ssrfGuard(options: SsrfGuardOptions): OutboundGuard {
  const allow = (options.allow ?? []).map(parseCidr);
  const resolve = options.resolve ?? systemResolve;
  const refuse = (url: URL, reason: string): OutboundRoute => {
    options.onRefuse?.(url, reason);
    return { ok: false, reason };
  };
  return {
    async route(url) {
      const host = url.hostname;
      let addresses: string[];
      if (parseIp(host) !== null) {
        addresses = [host.replace(/^\[|\]$/g, "")];
      } else {
        try {
          addresses = await resolve(host);
        } catch (error) {
          return { ok: false, reason: `Cannot resolve ${host}: ${(error as Error).message}` };
        }
      }
      // The first address we may use is the one we connect to.
      const usable = addresses.find((a) => classifyAddress(a) === null || isAllowed(a, allow));
      if (usable === undefined) {
        const first = addresses[0];
        const why = first === undefined ? "no address" : `${first} (${classifyAddress(first)})`;
        return refuse(url, `Refused by the SSRF guard: ${host} resolves to ${why}`);
      }
      if (options.pin === null) return { ok: true };
      const port = url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
      return { ok: true, pinned: options.pin(usable, port) };
    },
  };
}

async function systemResolve(host: string): Promise<string[]> {
  // Imported on the first look-up: on Deno node:dns loads part of the Node
  // compatibility layer, which a broadcaster without the SSRF guard never needs.
  const { lookup } = await import("node:dns/promises");
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}
