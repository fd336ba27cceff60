/**
 * Errors that callers can catch by class and inspect by field. Every message names
 * the input or model at fault and says what to do about it; none needs a stack dump
 * to be understood.
 */

/** Why one image could not be embedded. */
export type ImageInputErrorCode =
  /** The input value itself is of an unsupported type or shape. */
  | "INVALID_INPUT"
  /** A path that does not exist, is a directory, or cannot be read. */
  | "NOT_FOUND"
  | "NOT_READABLE"
  /** An http(s) URL that failed to download, or remote fetching is disabled. */
  | "FETCH_FAILED"
  /** Bytes that are empty, truncated, corrupt or not an image format we decode. */
  | "UNSUPPORTED_FORMAT"
  | "CORRUPT_IMAGE"
  /** More pixels than `maxInputPixels`: refused before a full decode. */
  | "TOO_LARGE";

/** One image input that could not be embedded. */
export class ImageInputError extends Error {
  override name = "ImageInputError";

  constructor(
    /** A human-readable name for the input: its path or URL, or `inputs[3] (Buffer)`. */
    readonly input: string,
    /** What went wrong, without the input's name. */
    readonly reason: string,
    readonly code: ImageInputErrorCode,
    /** Position of the input in the batch, when it came from one. */
    readonly index?: number,
    options?: { cause?: unknown },
  ) {
    super(`Cannot embed image ${input}: ${reason}`, options);
  }
}

/** `embedImages` rejects with this when one or more inputs failed; it lists every one. */
export class ImageBatchError extends Error {
  override name = "ImageBatchError";

  constructor(
    readonly failures: ImageInputError[],
    readonly total: number,
  ) {
    super(
      `${failures.length} of ${total} images could not be embedded:\n` +
        failures.map((f) => `  - ${f.input}: ${f.reason}`).join("\n") +
        "\nUse embedImagesSettled() to keep the vectors of the good images.",
    );
  }
}

/** A model that could not be found, downloaded or opened. */
export class ModelLoadError extends Error {
  override name = "ModelLoadError";

  constructor(
    /** The model id or directory as the caller gave it. */
    readonly model: string,
    /** Where the loader looked: a local directory, or the Hub plus the cache directory. */
    readonly lookedIn: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Could not load model "${model}" (looked in ${lookedIn}): ${detail}\n` +
        `To use a model on disk, pass its directory: new ImageEmbeddings({ model: "/path/to/model-dir" }). ` +
        `The directory needs config.json, preprocessor_config.json, tokenizer.json and onnx/*.onnx ` +
        `(the transformers.js layout, e.g. a clone of Xenova/clip-vit-base-patch32).`,
      options,
    );
  }
}

/** An optional native dependency that is missing or failed to load. */
export class MissingDependencyError extends Error {
  override name = "MissingDependencyError";

  constructor(
    readonly dependency: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause instanceof Error ? ` (${options.cause.message.split("\n")[0]})` : "";
    super(`Could not load "${dependency}"${cause}.\n${hint}`, options);
  }
}

/**
 * A dependency that loads but cannot be used as it is: the wrong major version, or two
 * copies of onnxruntime-node in one process. The message says how to get one right copy.
 */
export class DependencyConflictError extends Error {
  override name = "DependencyConflictError";
}

/** What differs between a saved store and the embeddings (or library) that try to open it. */
export type IncompatibleIndexField =
  "format" | "version" | "model" | "pooling" | "projectionHead" | "headInput" | "dimension";

/**
 * A saved ImageFaissStore that cannot be opened with these embeddings: its vectors came
 * from another model, pooling, projection head or dimension, or it was written by a
 * newer version of this library. Vectors from different models are not comparable, so
 * the fix is the same embeddings as when it was built, or a re-index.
 */
export class IncompatibleIndexError extends Error {
  override name = "IncompatibleIndexError";

  constructor(
    /** The store's folder as the caller gave it. */
    readonly directory: string,
    /** Which property differs. */
    readonly field: IncompatibleIndexField,
    /** The value saved with the store. */
    readonly saved: string | number | null,
    /** The value of the embeddings (or library) trying to open it. */
    readonly current: string | number | null,
    message: string,
  ) {
    super(message);
  }
}

/** A database store that cannot be reached or refused the connection, within the connect timeout. */
export class StoreConnectionError extends Error {
  override name = "StoreConnectionError";

  constructor(
    /** The store's URL with any password replaced by `***`. */
    readonly url: string,
    /** What went wrong, e.g. "connection refused" or "no answer within 10000 ms". */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot connect to the store at ${url}: ${reason}. Check that Postgres is running there, ` +
        `that the host, port, user and database are right, and that the pgvector extension is available.`,
      options,
    );
  }
}

/** What made the vectors in a store: compared when a store is opened. */
export interface StoreModelIdentity {
  /** A Hub id, or the absolute path of a local model directory. */
  model: string;
  dimension: number;
  /** The projection head's id, or null for none. */
  head: string | null;
  /** Image-only encoders' pooling, or null for CLIP. */
  pooling: string | null;
}

/** A store opened with embeddings other than the ones that wrote its vectors. */
export class StoreModelMismatchError extends Error {
  override name = "StoreModelMismatchError";

  constructor(
    /** Where the store is: its URL (password replaced by `***`) and table. */
    readonly store: string,
    readonly stored: StoreModelIdentity,
    readonly requested: StoreModelIdentity,
  ) {
    const describe = (m: StoreModelIdentity) =>
      `model "${m.model}" (${m.dimension}-d, ${m.head ? `projection head ${m.head}` : "no projection head"}` +
      `${m.pooling ? `, pooling ${m.pooling}` : ""})`;
    super(
      `The store ${store} holds vectors made with ${describe(stored)}, but these embeddings use ${describe(requested)}. ` +
        `Vectors from different models are not comparable: open it with the same model, or use another table.`,
    );
  }
}

/** The Redis server behind a queue could not be reached (or did not answer) in time. */
export class QueueConnectionError extends Error {
  override name = "QueueConnectionError";

  constructor(
    /** The queue's URL with any password replaced by `***`. */
    readonly url: string,
    /** What went wrong, e.g. "connection refused" or "no answer within 10000 ms". */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot connect to the queue at ${url}: ${reason}. Check that Redis is running there and that the host, ` +
        `port and password are right.`,
      options,
    );
  }
}
