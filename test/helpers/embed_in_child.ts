/**
 * Child process for the inference-thread tests: embeds one image and one text with the
 * given `inference` mode and prints the vectors as JSON. With `--no-dispose` it never
 * calls dispose(), to show that an idle worker does not keep the process alive.
 */
import { ImageEmbeddings } from "../../src/index.js";

const [model, image, inference, flag] = process.argv.slice(2);
const embeddings = new ImageEmbeddings({ model, inference: inference as "worker" | "main" });
const vectors = { image: await embeddings.embedImage(image), text: await embeddings.embedQuery("a red circle") };
process.stdout.write(JSON.stringify(vectors));
if (flag !== "--no-dispose") await embeddings.dispose();
