/**
 * Synthetic embeddings where the class signal hides in a few low-variance dimensions
 * under strong nuisance variation: nearest neighbours in the raw space are near chance,
 * and a trained head must find the signal.
 */
import { gaussian, seededRandom } from "../../src/heads/random.js";

export const CLASSES = 8;
export const DIM = 24;

/** Class means on the first 4 dims (scale 0.6), noise of scale 1 on the other 20. */
export function weakEmbeddings(perClass: number, seed: number) {
  const random = seededRandom(seed);
  const means = Array.from({ length: CLASSES }, () => Array.from({ length: 4 }, () => gaussian(random) * 0.6));
  return Array.from({ length: CLASSES * perClass }, (_, i) => {
    const label = i % CLASSES;
    const vector = Array.from({ length: DIM }, (_, k) =>
      k < 4 ? means[label][k] + gaussian(random) * 0.05 : gaussian(random),
    );
    return { vector, label: `class-${label}` };
  });
}
