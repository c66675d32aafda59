/**
 * A dictionary prepared for libzstd: one DDict (built at load, which also
 * validates the bytes) and one CDict per compression level, built on first
 * use. Streams lease it, so closing it while a stream runs frees it only when
 * the last stream ends; a finalizer frees what nobody closed. It counts as a
 * user of the backend's {@link Lifetime} until freed.
 *
 * @module
 */

import { ZstdError } from "./errors.ts";
import { dictionaryId } from "./_frame.ts";
import { Lifetime } from "./_lifetime.ts";
import type { LibZstd, Ptr } from "./_symbols.ts";
import type { ZstdDictionary } from "./types.ts";

interface NativeState {
  readonly lib: LibZstd;
  readonly lifetime: Lifetime;
  readonly cdicts: Map<number, Ptr>;
  ddict: Ptr;
}

function free(state: NativeState): void {
  for (const cdict of state.cdicts.values()) state.lib.symbols.ZSTD_freeCDict(cdict);
  state.cdicts.clear();
  state.lib.symbols.ZSTD_freeDDict(state.ddict);
  state.ddict = state.lib.nullPtr;
  state.lifetime.leave();
}

const finalizer = new FinalizationRegistry<NativeState>(free);

/** A {@link ZstdDictionary} backed by libzstd's CDict/DDict. */
export class LibDictionary implements ZstdDictionary {
  /** The dictionary bytes (a private copy). */
  readonly bytes: Uint8Array;
  /** The id in the header; 0 for raw content. */
  readonly id: number;
  readonly #state: NativeState;
  readonly #uses = new Lifetime("dictionary", () => {
    finalizer.unregister(this);
    free(this.#state);
  });

  /**
   * Prepares `bytes` (copied).
   *
   * @throws {ZstdError} `"dictionary"` when libzstd rejects them
   */
  constructor(lib: LibZstd, lifetime: Lifetime, bytes: Uint8Array) {
    this.bytes = bytes.slice();
    lifetime.enter();
    const ddict = lib.symbols.ZSTD_createDDict(this.bytes, this.bytes.length);
    if (lib.isNull(ddict)) {
      lifetime.leave();
      throw new ZstdError("dictionary", "Invalid zstd dictionary: libzstd cannot load it");
    }
    this.id = dictionaryId(this.bytes);
    this.#state = { lib, lifetime, cdicts: new Map(), ddict };
    finalizer.register(this, this.#state, this);
  }

  /** The CDict for `level`, built on first use. */
  cdict(level: number): Ptr {
    this.#uses.checkOpen();
    let cdict = this.#state.cdicts.get(level);
    if (cdict === undefined) {
      const { lib } = this.#state;
      cdict = lib.symbols.ZSTD_createCDict(this.bytes, this.bytes.length, level);
      if (lib.isNull(cdict)) {
        throw new ZstdError("dictionary", `Cannot prepare the zstd dictionary for level ${level}`);
      }
      this.#state.cdicts.set(level, cdict);
    }
    return cdict;
  }

  /** The DDict. */
  ddict(): Ptr {
    this.#uses.checkOpen();
    return this.#state.ddict;
  }

  /** Keeps the native state alive until {@link LibDictionary.release}. */
  lease(): void {
    this.#uses.enter();
  }

  /** Ends a lease; frees the state if a close was waiting for it. */
  release(): void {
    this.#uses.leave();
  }

  /** Frees the native state now, or when the last stream using it ends. */
  close(): void {
    this.#uses.close();
  }

  /** Same as {@link LibDictionary.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
