import assert from "node:assert/strict";
import { ByteBudget } from "./byte_budget.ts";

Deno.test("ByteBudget refuses what does not fit and takes it again once released", () => {
  const budget = new ByteBudget(100);
  assert.equal(budget.tryReserve(70), true);
  assert.equal(budget.tryReserve(31), false);
  assert.equal(budget.tryReserve(30), true);
  assert.equal(budget.used, 100);
  budget.release(70);
  assert.equal(budget.used, 30);
  assert.equal(budget.tryReserve(50, 25), false, "would leave less than 25 free");
  assert.equal(budget.tryReserve(45, 25), true);
  assert.equal(budget.used, 75);
});
