/**
 * An agent tool: the model decides to search the image collection, the tool runs the
 * search, and the model answers from the result. This is the standard LangChain tool
 * calling loop, which agent frameworks (LangGraph, createAgent) run for you.
 *
 *   npx tsx examples/agent_tool.ts
 *
 * Offline, a scripted chat model plays the agent's model: it calls the tool with the
 * user's words, then reports the best match. With a real model (ChatOpenAI, ChatAnthropic,
 * ...), only the `model` line changes.
 *
 * In your own project, import from "langchain-image-embeddings" instead of "../src/index.js".
 */
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import {
  ImageEmbeddings,
  ImageFaissStore,
  MultimodalRetriever,
  createImageSearchTool,
  type ImageSearchToolResult,
} from "../src/index.js";
import { ScriptedChatModel } from "./shared/scripted_chat_model.js";
import { MODEL, sampleImages, show } from "./shared/setup.js";

const images = await sampleImages();
const embeddings = new ImageEmbeddings({ model: MODEL });
const store = await ImageFaissStore.fromImages(
  images.map((image) => image.path),
  embeddings,
);
const imageSearch = createImageSearchTool(new MultimodalRetriever({ vectorStore: store, k: 3 }));
console.log(`Tool "${imageSearch.name}": ${imageSearch.description}\n`);

// The scripted model: on a question, call the first tool it was given; on a tool result, answer.
const model = new ScriptedChatModel((messages, tools) => {
  const last = messages.at(-1)!;
  if (last instanceof ToolMessage) {
    const [best] = JSON.parse(last.content as string) as ImageSearchToolResult[];
    return new AIMessage(`The closest image is ${show(best.source)} (cosine ${best.score}).`);
  }
  const query = (last.content as string).replace(/^find me /i, "");
  return new AIMessage({
    content: "",
    tool_calls: [{ type: "tool_call", id: "call_1", name: tools[0].name, args: { query, k: 2 } }],
  });
}).bindTools([imageSearch]);

const messages: BaseMessage[] = [new HumanMessage("Find me a yellow square")];
for (let turn = 0; turn < 5; turn++) {
  const reply = await model.invoke(messages);
  messages.push(reply);
  if (!reply.tool_calls?.length) break;
  for (const call of reply.tool_calls) {
    console.log(`Model calls ${call.name}(${JSON.stringify(call.args)})`);
    // Invoked with the whole tool call, the tool returns a ToolMessage: JSON for the model,
    // and the full Documents as its artifact for the application.
    const result: ToolMessage = await imageSearch.invoke(call);
    console.log(`Tool returns ${result.content}`);
    console.log(`  (artifact: ${result.artifact.length} Documents)`);
    messages.push(result);
  }
}
console.log(`Model answers: ${messages.at(-1)!.content}`);

await embeddings.dispose();
