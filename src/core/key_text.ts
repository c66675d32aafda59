/**
 * How operators see a topic or glob (CLI tables, the admin page, JSON).
 *
 * @module
 */

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A topic or glob as text: itself when valid UTF-8, else `0x` and its hex. */
export function keyText(key: Uint8Array): string {
  try {
    return UTF8.decode(key);
  } catch {
    return `0x${Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
}
