/**
 * Plain text tables and value formatting for the CLI's listings.
 *
 * @module
 */

export { keyText } from "../core/key_text.ts";

/** An epoch-ms time as ISO 8601 to the second (UTC), or `-`. */
export function when(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Columns padded to their widest cell; `(none)` for no rows. */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "(none)";
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i]!)).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}
