import assert from "node:assert/strict";
import { palette, useColour } from "./colours.ts";

Deno.test("colours: only on a TTY, never with NO_COLOR", () => {
  assert.equal(useColour(true, {}), true);
  assert.equal(useColour(false, {}), false);
  assert.equal(useColour(undefined, {}), false);
  assert.equal(useColour(true, { NO_COLOR: "1" }), false);
  // no-color.org: an empty NO_COLOR does not count.
  assert.equal(useColour(true, { NO_COLOR: "" }), true);
});

Deno.test("colours: a disabled palette returns text unchanged", () => {
  assert.equal(palette(false).red("x"), "x");
  assert.equal(palette(true).red("x"), "\x1b[31mx\x1b[39m");
});
