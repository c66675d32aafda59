/**
 * The admin page's HTML, rendered on the server from what the store says.
 *
 * @module
 */

import type {
  FailingUrl,
  PruneRecord,
  StatsPage,
  SubscriptionReport,
} from "../../storage/types.ts";
import { keyText as key } from "../../core/key_text.ts";

/** Everything the page shows. */
export interface AdminView {
  /** The page's own path (`<prefix>/admin`). */
  readonly base: string;
  /** Counts and the longest failing urls. */
  readonly report: SubscriptionReport;
  /** Open websocket connections, or null when websockets are off. */
  readonly websockets: number | null;
  /** Deliveries over the last minute and hour (null: statistics off). */
  readonly recent: {
    readonly minute: { deliveries: number; failures: number };
    readonly hour: { deliveries: number; failures: number };
  } | null;
  /** Missed records waiting. */
  readonly pendingMissed: number | "unavailable";
  /** The filter as given. */
  readonly filter: { readonly q: string; readonly failing: boolean; readonly page: number };
  /** Rows per page. */
  readonly pageSize: number;
  /** The page of subscriptions. */
  readonly rows: StatsPage;
  /** Latest prunes. */
  readonly prunes: PruneRecord[];
  /** A line to show once (after a removal). */
  readonly notice: string | null;
}

/** Escapes text for HTML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function when(ms: number | null): string {
  if (ms === null) return "-";
  const iso = new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  return `<time datetime="${iso}">${iso.replace("T", " ")}</time>`;
}

/** A page of the document: head, body, the script. */
export function documentOf(base: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${esc(base)}/admin.css">
<script src="${esc(base)}/admin.js" defer></script>
</head><body>
${body}
</body></html>
`;
}

/** The sign-in form; `error` says why the last attempt failed. */
export function loginPage(base: string, error: string | null): string {
  return documentOf(
    base,
    "lonelypss admin: sign in",
    `<h1>lonelypss admin</h1>
${error === null ? "" : `<p class="error" role="alert">${esc(error)}</p>`}
<form method="post" action="${esc(base)}/login" class="filter">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>`,
  );
}

function removeForm(base: string, url: string): string {
  return `<form method="post" action="${esc(base)}/remove" ` +
    `data-confirm="${esc(`Remove every subscription of ${url}?`)}">` +
    `<input type="hidden" name="url" value="${esc(url)}">` +
    `<button class="remove" type="submit">Remove url</button></form>`;
}

function failingTable(base: string, urls: FailingUrl[]): string {
  if (urls.length === 0) return "<p>No failing urls.</p>";
  const rows = urls.map((f) =>
    `<tr class="failing"><td class="url">${esc(f.url)}</td><td>${when(f.failingSince)}</td>` +
    `<td>${f.consecutiveFailures}</td><td>${f.subscriptions}</td><td>${
      removeForm(base, f.url)
    }</td></tr>`
  ).join("\n");
  return `<div class="scroll"><table id="failing"><thead><tr><th>Url</th><th>Failing since</th>` +
    `<th>Streak</th><th>Subscriptions</th><th></th></tr></thead><tbody>\n${rows}\n</tbody></table></div>`;
}

function subscriptionsTable(v: AdminView): string {
  const rows = v.rows.rows.map((r) =>
    `<tr${r.failingSince === null ? "" : ' class="failing"'}><td class="url">${esc(r.url)}</td>` +
    `<td>${r.kind}</td><td>${esc(key(r.key))}</td><td>${r.deliveries}</td><td>${r.failures}</td>` +
    `<td>${
      r.consecutiveFailures > 0 ? `<span class="bad">${r.consecutiveFailures}</span>` : 0
    }</td>` +
    `<td>${esc(r.lastFailure ?? "-")}</td><td>${when(r.failingSince)}</td>` +
    `<td>${when(r.lastSuccessAt)}</td><td>${when(r.renewedAt)}</td>` +
    `<td>${removeForm(v.base, r.url)}</td></tr>`
  ).join("\n");
  const head = ["Url", "Kind", "Topic / glob", "Sent", "Failed", "Streak", "Last failure"]
    .concat("Failing since", "Last success", "Renewed", "").map((h) => `<th>${h}</th>`).join("");
  return `<div class="scroll"><table id="subscriptions"><thead><tr>${head}</tr></thead>` +
    `<tbody>\n${rows}\n</tbody></table></div>`;
}

function pager(v: AdminView): string {
  const pages = Math.max(1, Math.ceil(v.rows.total / v.pageSize));
  const link = (page: number, text: string) => {
    const q = new URLSearchParams({ q: v.filter.q, page: String(page) });
    if (v.filter.failing) q.set("failing", "1");
    return `<a href="${esc(v.base)}?${esc(q.toString())}">${text}</a>`;
  };
  const p = v.filter.page;
  return `<nav class="pages" aria-label="pages">` +
    (p > 1 ? link(p - 1, "&larr; Previous") : "<span></span>") +
    `<span id="page-info">Page ${p} of ${pages} (${v.rows.total} subscriptions)</span>` +
    (p < pages ? link(p + 1, "Next &rarr;") : "<span></span>") + `</nav>`;
}

function auditTable(prunes: PruneRecord[]): string {
  if (prunes.length === 0) return "<p>Nothing pruned yet.</p>";
  const rows = prunes.map((p) =>
    `<tr><td>${when(p.at)}</td><td class="url">${esc(p.url)}</td><td>${esc(p.reason)}</td>` +
    `<td>${p.exacts}</td><td>${p.globs}</td></tr>`
  ).join("\n");
  return `<div class="scroll"><table id="audit"><thead><tr><th>When</th><th>Url</th><th>Reason</th>` +
    `<th>Exact</th><th>Glob</th></tr></thead><tbody>\n${rows}\n</tbody></table></div>`;
}

/** The page. */
export function adminPage(v: AdminView): string {
  const r = v.report;
  const total = (label: string, value: string | number, id: string) =>
    `<div id="${id}">${esc(label)}<b>${value}</b></div>`;
  const rate = (c: { deliveries: number; failures: number } | undefined) =>
    c === undefined ? "off" : `${c.deliveries} / ${c.failures}`;
  const totals = [
    total("Exact subscriptions", r.exacts, "total-exact"),
    total("Glob subscriptions", r.globs, "total-glob"),
    total("Subscriber urls", r.urls, "total-urls"),
    total("Failing urls", r.failingUrls, "total-failing"),
    total("Websocket connections", v.websockets ?? "off", "total-ws"),
    total("Sent / failed, last minute", rate(v.recent?.minute), "total-minute"),
    total("Sent / failed, last hour", rate(v.recent?.hour), "total-hour"),
    total(
      "Missed records pending",
      v.pendingMissed === "unavailable" ? "?" : v.pendingMissed,
      "total-missed",
    ),
  ].join("\n");
  return documentOf(
    v.base,
    "lonelypss admin",
    `<header><h1>lonelypss admin</h1>
<form method="post" action="${
      esc(v.base)
    }/logout"><button type="submit">Sign out</button></form></header>
${v.notice === null ? "" : `<p class="notice" role="status">${esc(v.notice)}</p>`}
<section class="totals">${totals}</section>
<h2>Failing urls (longest first)</h2>
${failingTable(v.base, r.topFailing)}
<h2>Subscriptions</h2>
<form method="get" action="${esc(v.base)}" class="filter" role="search">
<input type="search" name="q" value="${
      esc(v.filter.q)
    }" placeholder="Url, topic or glob contains…" aria-label="filter">
<label><input type="checkbox" name="failing" value="1"${
      v.filter.failing ? " checked" : ""
    }> failing only</label>
<button type="submit">Filter</button>
</form>
${pager(v)}
${subscriptionsTable(v)}
<h2>Prune audit</h2>
${auditTable(v.prunes)}`,
  );
}
