/** `--queue` and `--store`: Redis and Postgres URLs for distributed indexing and Postgres search. */
import { Option } from "commander";

export const QUEUE_ENV = "IMAGE_EMBEDDINGS_QUEUE";
export const STORE_ENV = "IMAGE_EMBEDDINGS_STORE";

export function queueOption(): Option {
  return new Option("--queue <redis-url>", "Redis URL of the job queue, e.g. redis://host:6379").env(QUEUE_ENV);
}

export function storeOption(): Option {
  return new Option(
    "--store <postgres-url>",
    "Postgres + pgvector URL of the store, e.g. postgres://user@host:5432/db (instead of the FAISS --index folder)",
  ).env(STORE_ENV);
}

export function tableOption(): Option {
  return new Option("--table <name>", "table of the --store").default("image_embeddings");
}

export function queueNameOption(): Option {
  return new Option("--queue-name <name>", "name of the queue in Redis").default("image-embeddings");
}
