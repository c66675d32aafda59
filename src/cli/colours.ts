/**
 * Terminal colours: only when the stream is a TTY and `NO_COLOR` is unset
 * (https://no-color.org), so pipes, files and tests get plain text.
 *
 * @module
 */

/** Paints text, or passes it through unchanged when colours are off. */
export interface Palette {
  /** Errors. */
  red(s: string): string;
  /** Success. */
  green(s: string): string;
  /** Emphasis (commands, paths). */
  bold(s: string): string;
  /** Secondary text. */
  dim(s: string): string;
}

/** Whether to colour a stream. */
export function useColour(isTTY: boolean | undefined, env: Record<string, string | undefined>) {
  const noColor = env.NO_COLOR;
  return isTTY === true && (noColor === undefined || noColor === "");
}

/** A palette that colours when `enabled`. */
export function palette(enabled: boolean): Palette {
  const paint = (open: number, close: number) => (s: string) =>
    enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  return { red: paint(31, 39), green: paint(32, 39), bold: paint(1, 22), dim: paint(2, 22) };
}
