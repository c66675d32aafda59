/**
 * `POST /v1/notify` (docs/protocol/http.md#notify): streams the body, checks auth on
 * the header before reading the message, verifies length and SHA-512, fans
 * out, and answers RESPONSE_NOTIFY with simple tracing (docs/protocol/http.md#tracing).
 *
 * The body is never buffered whole (except a small one, ≤ 64 KiB by its
 * Content-Length, read into one buffer): the header is at most 131 402
 * bytes, the message stays in memory up to `spoolThresholdBytes` (while the
 * memory budget for request bodies has room) and goes to a spool file
 * beyond, which is deleted however the request ends. Without an
 * Authorization header where one is required, nothing is read (401); a body
 * that stalls or trickles is cut (408, see `../request_body.ts`). A header
 * whose message length contradicts the Content-Length is a 400 before
 * anything is reserved, so only a well-formed notify can meet the spool
 * quota (507).
 *
 * @module
 */

import { bytesReader, type ChunkReader } from "../../intake/chunks.ts";
import { fanOut } from "../../fanout/fanout.ts";
import { type Intake, takeMessage, takeWholeMessage } from "../../intake/intake.ts";
import { type NotifyHead, notifyHeadOf, readNotifyHead } from "../../intake/notify_head.ts";
import { encodeResponseNotify, encodeSimpleTracing, type TraceEntry } from "../../protocol/mod.ts";
import type { Context } from "../../core/context.ts";
import type { Route } from "../context.ts";
import { hasBody, missingAuthorization, RequestBody } from "../request_body.ts";
import { authFailure, badRequest, fail, ok, storeUnavailable } from "../responses.ts";
import type { SpoolError } from "../../core/spool.ts";
import type { HeldMessage } from "../../core/message.ts";
import { describeError } from "../../log.ts";

const U32_MAX = 0xffff_ffff;

/**
 * Bodies declaring at most this many bytes are read whole first: cheaper
 * than parsing chunk by chunk for the small notifies that are the common
 * case, and the declared length bounds what is held.
 */
const READ_WHOLE_BYTES = 64 * 1024;

/** The reader after a body read whole: nothing more comes. */
const NO_MORE = bytesReader(new Uint8Array(0));

/** Handles `/v1/notify`. */
export const notifyRoute: Route = (req: Request, ctx: Context): Promise<Response> => {
  const receivedAtNs = epochNs(ctx);
  const missing = missingAuthorization(req, ctx.auth.toBroadcaster);
  if (missing !== null) return Promise.resolve(missing);
  if (!hasBody(req)) {
    return Promise.resolve(badRequest("Truncated body: incomplete notify header"));
  }
  const body = RequestBody.of(req, ctx);
  const declared = body.declared;
  if (declared !== null && declared <= READ_WHOLE_BYTES) {
    // Usually all here already (the Deno front read it): no await before the header is parsed.
    const now = body.wholeNow(READ_WHOLE_BYTES);
    if (now instanceof Response) return Promise.resolve(now);
    if (now !== null) return wholeNotify(req, ctx, now, receivedAtNs);
    return body.readAll(READ_WHOLE_BYTES).then((bytes) =>
      bytes instanceof Response ? bytes : wholeNotify(req, ctx, bytes, receivedAtNs)
    );
  }
  return streamedNotify(req, ctx, body, declared, receivedAtNs);
};

/** A notify whose body is all in `bytes`. */
function wholeNotify(
  req: Request,
  ctx: Context,
  bytes: Uint8Array,
  receivedAtNs: bigint,
): Promise<Response> {
  return handleNotify(req, ctx, notifyHeadOf(bytes), NO_MORE, bytes.length, receivedAtNs);
}

/** A notify whose body is read as it comes (large, or of unknown length). */
async function streamedNotify(
  req: Request,
  ctx: Context,
  body: RequestBody,
  declared: number | null,
  receivedAtNs: bigint,
): Promise<Response> {
  let consumed = false;
  try {
    const head = await readNotifyHead(body);
    const res = await handleNotify(req, ctx, head, body, declared, receivedAtNs);
    consumed = res.status === 200;
    return res;
  } catch (error) {
    if (req.signal.aborted) return badRequest("Request aborted by the client");
    throw error;
  } finally {
    // Stops an over-long or abandoned upload (a body read to its end needs nothing).
    if (!consumed) await body.cancel();
  }
}

/**
 * Authorizes and takes the notify whose header is `head` and whose message continues in
 * `reader` ({@link NO_MORE} for a body read whole); `bodyLength` is the body's length when known
 * (its Content-Length), null when chunked.
 */
async function handleNotify(
  req: Request,
  ctx: Context,
  head: NotifyHead,
  reader: ChunkReader,
  bodyLength: number | null,
  receivedAtNs: bigint,
): Promise<Response> {
  if (!head.ok) return badRequest(head.reason);
  const { topic, sha512, tracing, identifier, length } = head.header;
  // A length field the body contradicts is the client's error (400), found
  // before anything is reserved: not a spool quota "full" (507) for a
  // message that was never coming.
  if (bodyLength !== null) {
    const follows = BigInt(bodyLength - head.headerLength);
    if (follows !== length) {
      const which = follows < length ? "shorter" : "longer";
      return badRequest(
        `Body ${which} than announced: the header announces ${length} message bytes, ${follows} follow`,
      );
    }
  }
  const verdict = await ctx.auth.toBroadcaster.verify(
    { type: "notify", topic, identifier, sha512 },
    tracing,
    req.headers.get("authorization"),
    ctx.now(),
  );
  if (verdict !== "ok") return authFailure(verdict);
  const max = ctx.limits.maxNotifyBytes;
  if (Number.isFinite(max) && length > BigInt(max)) {
    ctx.metrics.notifyRefused("too_large");
    return fail(413, `Notify message larger than the limit of ${max} bytes`);
  }
  const entries: TraceEntry[] = [trace(ctx, "auth_tentatively_accepted")];
  if (reader === NO_MORE) {
    // The usual small notify: the message is all here, and is held in memory without awaits.
    const whole = takeWholeMessage(
      head.rest[0] ?? EMPTY,
      length,
      sha512,
      ctx.limits,
      ctx.bodyMemory,
    );
    if (whole !== null) return await answer(ctx, head, whole, entries, receivedAtNs, null);
  }
  // A spooled message is delivered while it arrives (docs/decisions.md#delivered-while-it-arrives):
  // its deliveries read the spool as it grows and hold its last bytes back until the SHA-512
  // matched; on any failure `abandon` cuts the ones in progress.
  const abandon = new AbortController();
  let early: Promise<number | "unavailable"> | null = null;
  const startEarly = ctx.limits.deliverWhileReceiving
    ? (message: HeldMessage) => {
      early = fanOut(ctx, { topic, sha512, message }, abandon.signal);
      early.catch(() => {}); // awaited below; never left unhandled meanwhile
    }
    : undefined;
  let intake: Awaited<ReturnType<typeof takeMessage>>;
  try {
    intake = await takeMessage(
      reader,
      head.rest,
      length,
      sha512,
      ctx.limits,
      ctx.spool,
      ctx.bodyMemory,
      startEarly,
    );
  } catch (error) {
    await abandonEarly(abandon, early);
    throw error;
  }
  if (!intake.ok) await abandonEarly(abandon, early);
  return await answer(ctx, head, intake, entries, receivedAtNs, early);
}

const EMPTY = new Uint8Array(0);

/**
 * Fans out a message taken whole (or finishes the fan-out that started while it arrived,
 * `early`) and answers RESPONSE_NOTIFY; the failure's answer when it could not be taken.
 */
async function answer(
  ctx: Context,
  head: NotifyHead & { ok: true },
  intake: Intake,
  entries: TraceEntry[],
  receivedAtNs: bigint,
  early: Promise<number | "unavailable"> | null,
): Promise<Response> {
  if (!intake.ok) return intake.spool ? spoolFailure(ctx, intake.spool) : badRequest(intake.reason);
  const { topic, sha512, identifier } = head.header;
  try {
    entries.push(trace(ctx, "auth_accepted"));
    // Deliveries finish even if the notifier goes away (as in the reference).
    const count = await (early ?? fanOut(ctx, { topic, sha512, message: intake.message }));
    if (count === "unavailable") return storeUnavailable();
    entries.push(trace(ctx, "no_more_subscribers"));
    const subscribers = Math.min(count, U32_MAX);
    const responseTracing = encodeSimpleTracing(entries, receivedAtNs, epochNs(ctx));
    const authorization = await ctx.auth.toSubscriber.authorize(
      { type: "confirm_notify", identifier, subscribers, topic, sha512 },
      responseTracing,
      ctx.now(),
    );
    return ok(encodeResponseNotify({
      authorization,
      tracing: responseTracing,
      count: subscribers,
      identifier,
    }));
  } finally {
    await intake.message.dispose();
  }
}

/**
 * Cuts the deliveries of a message that failed while it arrived (the intake has already failed
 * its readers) and waits for its fan-out to end, so nothing of it outlives the 400.
 */
async function abandonEarly(
  abandon: AbortController,
  early: Promise<number | "unavailable"> | null,
): Promise<void> {
  abandon.abort();
  await early?.catch(() => {});
}

/** 507 (full disk or quota) or 503 with the reason, counted and logged (rate limited). */
export function spoolFailure(ctx: Context, error: SpoolError): Response {
  ctx.metrics.notifyRefused(error.kind);
  if (error.kind === "spool_quota") {
    ctx.faults.warn("Notify refused: spool quota in use", {
      inUse: ctx.spool.inUse,
      quota: ctx.spool.quota,
    });
  } else {
    ctx.faults.error("Notify refused: cannot write to the spool directory", {
      spoolDir: ctx.limits.spoolDir,
      cause: describeError(error.cause),
    });
  }
  return fail(error.status, error.message);
}

function trace(ctx: Context, name: string): TraceEntry {
  return { name, extra: "{}", at: ctx.now() };
}

function epochNs(ctx: Context): bigint {
  return BigInt(Math.round(ctx.now() * 1e6)) * 1000n;
}
