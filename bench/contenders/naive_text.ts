/** Naive transformers.js text embedding (as @llamaindex/clip's getTextEmbedding): one query per model call. */
import { AutoTokenizer, CLIPTextModelWithProjection } from "@huggingface/transformers";
import { measure, readArgs, report } from "./child.js";

const args = readArgs<{ model: string; texts: string[] }>();
const options = { local_files_only: true, dtype: "fp32" as const, device: "cpu" as const };
const tokenizer = await AutoTokenizer.from_pretrained(args.model, options);
const model = await CLIPTextModelWithProjection.from_pretrained(args.model, options);
const embed = async (text: string) => (await model(tokenizer([text], { padding: true, truncation: true }))).text_embeds;
await embed("warm up");
const single = await measure(async () => {
  for (const text of args.texts) await embed(text);
});
report({ texts: args.texts.length, singleSeconds: single.seconds });
