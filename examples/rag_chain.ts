/**
 * A RAG chain over images: retrieve the images that match a question, and hand them to a
 * multimodal chat model as image content blocks, in one LCEL chain.
 *
 *   npx tsx examples/rag_chain.ts
 *
 * Offline, a scripted chat model stands in for a real one (ChatOpenAI, ChatAnthropic,
 * ChatOllama with a vision model, ...) and records what it received. With a real model,
 * only the `model` line changes: LangChain translates the standard image blocks into
 * each provider's format.
 *
 * In your own project, import from "langchain-image-embeddings" instead of "../src/index.js".
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import type { DocumentInterface } from "@langchain/core/documents";
import { ImageEmbeddings, ImageFaissStore, MultimodalRetriever, imageContentBlocks } from "../src/index.js";
import { ScriptedChatModel } from "./shared/scripted_chat_model.js";
import { MODEL, sampleImages, show } from "./shared/setup.js";

const images = await sampleImages();
const embeddings = new ImageEmbeddings({ model: MODEL });
const store = await ImageFaissStore.fromImages(
  images.map((image) => image.path),
  embeddings,
);

// includeImageData attaches each result's bytes as metadata.imageDataUri.
const retriever = new MultimodalRetriever({ vectorStore: store, k: 3, includeImageData: true });

// Stands in for a vision model: it says how many images it was shown.
const model = new ScriptedChatModel((messages) => {
  const blocks = messages.at(-1)!.contentBlocks;
  const shown = blocks.filter((block) => block.type === "image").length;
  return new AIMessage(`I was shown ${shown} images for: ${blocks[0].type === "text" ? blocks[0].text : "?"}`);
});

const toMessages = RunnableLambda.from(({ question, docs }: { question: string; docs: DocumentInterface[] }) => [
  new SystemMessage("Answer the question using only the images provided."),
  new HumanMessage({ contentBlocks: [{ type: "text", text: question }, ...imageContentBlocks(docs)] }),
]);

// The retriever gets a search phrase, the chat model the user's question.
const chain = RunnableSequence.from([
  {
    question: RunnableLambda.from((input: { question: string; search: string }) => input.question),
    docs: RunnableLambda.from((input: { question: string; search: string }) => input.search).pipe(retriever),
  },
  toMessages,
  model,
  new StringOutputParser(),
]);

const question = "Which of these shapes is a red circle?";
const search = "a red circle";
const answer = await chain.invoke({ question, search });
console.log(`Question: ${question}`);
console.log(`Answer:   ${answer}\n`);

// What the model received: the question, then a caption and an image block per result.
// Each image block holds the file's own bytes: its SHA-256 matches the file on disk.
console.log("The model received:");
for (const block of model.calls[0].at(-1)!.contentBlocks) {
  if (block.type === "text") {
    console.log(`  text   ${block.text}`);
  } else if (block.type === "image" && typeof block.data === "string") {
    const bytes = Buffer.from(block.data, "base64");
    console.log(`  image  ${block.mimeType}, ${bytes.length} bytes, sha256 ${sha256(bytes).slice(0, 12)}`);
  }
}
const retrieved = await retriever.invoke(search);
console.log("\nThe retrieved files:");
for (const doc of retrieved) {
  console.log(`  ${show(doc.metadata.source)}  sha256 ${sha256(await readFile(doc.metadata.source)).slice(0, 12)}`);
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

await embeddings.dispose();
