/**
 * Adding N 512-d vectors with their Documents: ImageFaissStore in one call (bulk: one
 * native add per chunk), ImageFaissStore one call per vector, and @langchain/community's
 * FaissStore.addVectors (which calls faiss once per vector). Each mode gets at most
 * `maxSeconds`; a mode that runs out reports the rate over what it added.
 */
import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import { ImageFaissStore } from "../../src/index.js";
import { randomUnitVectors, rows } from "../stats.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{ count: number; maxSeconds: number }>();
const DIM = 512;
const vectors = rows(randomUnitVectors(args.count, DIM, 3), DIM);
const docs = vectors.map((_, i) => new Document({ pageContent: `doc ${i}`, id: `id-${i}` }));
const ids = docs.map((d) => d.id!);

async function timed(add: (from: number) => Promise<number>) {
  const start = performance.now();
  const added = await add(start);
  const seconds = (performance.now() - start) / 1000;
  return { added, seconds, perSecond: added / seconds };
}
const outOfTime = (start: number) => (performance.now() - start) / 1000 > args.maxSeconds;

const bulk = await timed(async () => {
  const store = new ImageFaissStore(new FakeEmbeddings());
  await store.addVectors(vectors, docs, { ids });
  return store.entries().length;
});
const oneByOne = await timed(async (start) => {
  const store = new ImageFaissStore(new FakeEmbeddings());
  let i = 0;
  for (; i < args.count && !outOfTime(start); i++) await store.addVectors([vectors[i]], [docs[i]], { ids: [ids[i]] });
  return i;
});
const community = await timed(async () => {
  const store = new FaissStore(new FakeEmbeddings(), {});
  await store.addVectors(vectors, docs, { ids });
  return store.index.ntotal();
});
report({ count: args.count, bulk, oneByOne, community });
