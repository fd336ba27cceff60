/** Child process for missing_faiss.int.test.ts: uses the store and prints the error it meets. */
import { Document } from "@langchain/core/documents";
import { ImageFaissStore } from "../../src/index.js";
import { noEmbeddings } from "./vectors.js";

const store = new ImageFaissStore(noEmbeddings);
try {
  await store.addVectors([[1, 0]], [new Document({ pageContent: "x" })]);
  console.log("NO ERROR");
} catch (error) {
  console.log(String(error));
}
