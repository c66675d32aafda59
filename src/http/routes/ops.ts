/**
 * Operations endpoints beside the protocol (under the path prefix, GET or
 * HEAD): `/healthz` (the process answers), `/readyz` (the store answers and
 * we are not shutting down) and `/metrics` (Prometheus text format 0.0.4,
 * optionally behind its own bearer token). Each can be turned off.
 *
 * @module
 */

import { timingSafeEqual } from "../../crypto/equal.ts";
import type { Context } from "../../core/context.ts";
import { LATENCY_BUCKETS, type Metrics } from "../../core/metrics.ts";
import type { Route } from "../context.ts";
import type { SubscriptionReport } from "../../storage/types.ts";
import { fail } from "../responses.ts";

/** Which operations endpoints are served, and how `/metrics` is protected. */
export interface OpsOptions {
  /** Serve `GET /healthz`. Default true. */
  readonly healthz?: boolean;
  /** Serve `GET /readyz`. Default true. */
  readonly readyz?: boolean;
  /** Serve `GET /metrics`. Default true. */
  readonly metrics?: boolean;
  /** When set, `/metrics` requires `Authorization: Bearer <token>`. Default none. */
  readonly metricsToken?: string | null;
  /**
   * Serve the admin page at `/admin` (`docs/subscriptions.md#the-admin-page`).
   * Default false; it needs `adminToken` or `metricsToken`.
   */
  readonly admin?: boolean;
  /** The admin page's bearer token (default: the metrics token). */
  readonly adminToken?: string | null;
}

/** What the endpoints read from the broadcaster around the handler. */
export interface OpsState {
  /** True once shutdown has begun. */
  closing(): boolean;
  /** HTTP requests being handled now. */
  requestsInFlight(): number;
  /** Open websocket connections, or null when websockets are off. */
  websocketConnections(): number | null;
}

/** The paths of the operations endpoints. */
export const OPS_PATHS = ["/healthz", "/readyz", "/metrics"] as const;

const TEXT = "text/plain; charset=utf-8";
const EXPOSITION = "text/plain; version=0.0.4; charset=utf-8";

/** The enabled endpoints by path. */
export function opsRoutes(
  options: OpsOptions,
  state: OpsState,
): ReadonlyMap<string, Route> {
  const routes = new Map<string, Route>();
  if (options.healthz !== false) {
    routes.set("/healthz", () => Promise.resolve(plain(200, "ok")));
  }
  if (options.readyz !== false) {
    routes.set("/readyz", async (_req, ctx) => {
      if (state.closing()) return fail(503, "Shutting down");
      if (await ctx.store.ping() !== "ok") return fail(503, "Storage unavailable");
      return plain(200, "ready");
    });
  }
  if (options.metrics !== false) {
    const token = options.metricsToken ?? null;
    const expected = token === null ? null : new TextEncoder().encode(`Bearer ${token}`);
    routes.set("/metrics", async (req, ctx) => {
      if (expected !== null && !sameBytes(req.headers.get("authorization"), expected)) {
        return fail(401, "Metrics require a bearer token", { "www-authenticate": "Bearer" });
      }
      const body = await renderMetrics(ctx, state);
      return new Response(body, { status: 200, headers: { "content-type": EXPOSITION } });
    });
  }
  return routes;
}

function plain(status: number, text: string): Response {
  return new Response(text + "\n", { status, headers: { "content-type": TEXT } });
}

function sameBytes(given: string | null, expected: Uint8Array): boolean {
  if (given === null) return false;
  const bytes = new TextEncoder().encode(given);
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
}

/** The exposition text of every metric (docs/operating.md#metrics lists them). */
export async function renderMetrics(ctx: Context, state: OpsState): Promise<string> {
  const m = ctx.metrics;
  const out = new Exposition();
  out.family(
    "lonelypss_http_requests_total",
    "counter",
    "HTTP requests answered, by route and status.",
  );
  for (const [key, n] of m.requests) {
    const [route, status] = key.split(" ");
    out.sample("lonelypss_http_requests_total", { route: route!, status: status! }, n);
  }
  out.single(
    "lonelypss_http_requests_in_flight",
    "gauge",
    "HTTP requests being handled.",
    state.requestsInFlight(),
  );
  out.single(
    "lonelypss_notifies_total",
    "counter",
    "Notifies accepted and fanned out (HTTP and websocket).",
    m.notifies,
  );
  labelled(
    out,
    "lonelypss_notify_refusals_total",
    "Notifies refused before their message was read, by reason.",
    "reason",
    m.notifyRefusals,
  );
  out.single(
    "lonelypss_received_bytes_total",
    "counter",
    "Message bytes of accepted notifies.",
    m.bytesIn,
  );
  out.single(
    "lonelypss_sent_bytes_total",
    "counter",
    "Message bytes sent in RECEIVE requests.",
    m.bytesOut,
  );
  out.family(
    "lonelypss_deliveries_total",
    "counter",
    "Outgoing RECEIVE and MISSED requests, by kind and outcome.",
  );
  for (const [key, n] of m.deliveries) {
    const [kind, outcome] = key.split(" ");
    out.sample("lonelypss_deliveries_total", { kind: kind!, outcome: outcome! }, n);
  }
  histograms(out, m);
  out.single(
    "lonelypss_deliveries_in_flight",
    "gauge",
    "Outgoing RECEIVE and MISSED requests in flight.",
    m.deliveriesInFlight,
  );
  out.single(
    "lonelypss_websocket_deliveries_total",
    "counter",
    "Messages queued for this process's websocket connections.",
    m.websocketDeliveries,
  );
  out.single(
    "lonelypss_ssrf_refusals_total",
    "counter",
    "Deliveries refused by the SSRF guard.",
    m.ssrfRefusals,
  );
  out.single(
    "lonelypss_spool_bytes",
    "gauge",
    "Bytes reserved by spool files in use.",
    ctx.spool.inUse,
  );
  out.single("lonelypss_spool_quota_bytes", "gauge", "The spool quota.", ctx.spool.quota);
  out.family(
    "lonelypss_open_connections",
    "gauge",
    "Open connections: incoming (where the runtime adapter can tell), outgoing (requests in flight), websocket.",
  );
  if (m.incomingConnections !== null) {
    out.sample("lonelypss_open_connections", { kind: "incoming" }, m.incomingConnections);
  }
  out.sample("lonelypss_open_connections", { kind: "outgoing" }, m.deliveriesInFlight);
  const ws = state.websocketConnections();
  if (ws !== null) out.sample("lonelypss_open_connections", { kind: "websocket" }, ws);
  const pending = await ctx.store.countPendingMissed();
  out.family(
    "lonelypss_missed_pending",
    "gauge",
    "Missed records waiting for a MISSED (absent while the store is unavailable).",
  );
  if (pending !== "unavailable") out.sample("lonelypss_missed_pending", {}, pending);
  subscriptionMetrics(out, m, await ctx.store.subscriptionReport(0));
  labelled(
    out,
    "lonelypss_store_errors_total",
    "Store operations that answered unavailable (503), by operation.",
    "op",
    m.storeErrors,
  );
  out.single(
    "lonelypss_start_time_seconds",
    "gauge",
    "When this broadcaster started, epoch seconds.",
    m.startedAt,
  );
  return out.text();
}

function subscriptionMetrics(
  out: Exposition,
  m: Metrics,
  report: SubscriptionReport | "unavailable",
): void {
  out.family(
    "lonelypss_subscriptions",
    "gauge",
    "Subscriptions in the store, by kind (absent while the store is unavailable).",
  );
  if (report !== "unavailable") {
    out.sample("lonelypss_subscriptions", { kind: "exact" }, report.exacts);
    out.sample("lonelypss_subscriptions", { kind: "glob" }, report.globs);
  }
  out.family(
    "lonelypss_subscriber_urls",
    "gauge",
    "Distinct subscriber urls, all and those whose last delivery failed (absent while the store is unavailable).",
  );
  if (report !== "unavailable") {
    out.sample("lonelypss_subscriber_urls", { state: "all" }, report.urls);
    out.sample("lonelypss_subscriber_urls", { state: "failing" }, report.failingUrls);
  }
  out.family(
    "lonelypss_subscriptions_removed_total",
    "counter",
    "Subscriptions removed by this process's housekeeping, by reason.",
  );
  out.sample("lonelypss_subscriptions_removed_total", { reason: "lease" }, m.subscriptionsExpired);
  out.sample("lonelypss_subscriptions_removed_total", { reason: "failing" }, m.subscriptionsPruned);
}

function labelled(
  out: Exposition,
  name: string,
  help: string,
  label: string,
  values: ReadonlyMap<string, number>,
): void {
  out.family(name, "counter", help);
  for (const [value, n] of values) out.sample(name, { [label]: value }, n);
}

function histograms(out: Exposition, m: Metrics): void {
  // One unlabelled histogram per kind: simplest for every parser and query.
  for (const kind of ["receive", "missed"] as const) {
    const name = `lonelypss_${kind}_duration_seconds`;
    const h = m.latency[kind];
    out.family(name, "histogram", `Time from sending a ${kind.toUpperCase()} to its outcome.`);
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((bound, i) => {
      cumulative += h.counts[i]!;
      out.sample(`${name}_bucket`, { le: String(bound) }, cumulative);
    });
    out.sample(`${name}_bucket`, { le: "+Inf" }, h.count);
    out.sample(`${name}_sum`, {}, h.sum);
    out.sample(`${name}_count`, {}, h.count);
  }
}

/** Builds the text format line by line. */
class Exposition {
  readonly #lines: string[] = [];

  family(name: string, type: string, help: string): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Record<string, string>, value: number): void {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    const set = pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
    this.#lines.push(`${name}${set} ${formatValue(value)}`);
  }

  single(name: string, type: string, help: string, value: number): void {
    this.family(name, type, help);
    this.sample(name, {}, value);
  }

  text(): string {
    return this.#lines.join("\n") + "\n";
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}
