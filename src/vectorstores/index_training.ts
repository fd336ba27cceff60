/**
 * Which faiss index types need training, on how many vectors, and which vectors.
 *
 * faiss has the final say (an index whose fresh copy reports `isTrained() === false`
 * is trained); this file reads the factory string to pick a default training size
 * and the least faiss accepts, before any index exists:
 * - IVF<n>: k-means over n lists. faiss wants 39 points per centroid, and refuses fewer
 *   points than lists.
 * - PQ<m>[x<b>] and OPQ<m>: k-means with 2^b (256) centroids per sub-quantizer, so
 *   39 × 256 = 9,984 vectors, and at least 256.
 * - SQ8, SQ6, SQ4: a per-dimension range, which a thousand vectors pin down well.
 *   SQfp16 needs no training.
 * - Anything else faiss reports untrained (PCA, RQ...): 9,984, as for a codebook.
 */
import { seededRandom } from "../heads/random.js";

/** faiss' own minimum for good k-means: fewer points per centroid and it warns. */
const POINTS_PER_CENTROID = 39;
/** Vectors that fix a scalar quantizer's per-dimension range. */
const SCALAR_QUANTIZER_TRAIN_SIZE = 1_000;
/** Centroids per PQ sub-quantizer at faiss' default 8 bits. */
const PQ_CENTROIDS = 256;
/** The seed of the training sample, so a rebuild trains on the same vectors every time. */
const SAMPLE_SEED = 17;

/** What a factory string's index needs before it can hold vectors. */
export interface TrainingNeeds {
  /** Whether the factory string names a part that needs training (faiss decides in the end). */
  needsTraining: boolean;
  /** The default number of vectors to gather and train on. */
  defaultSize: number;
  /** The fewest vectors faiss accepts, and why (for the error message). */
  minimum: number;
  minimumReason: string;
}

/** Reads the training needs of a faiss factory string such as "OPQ16,IVF256,PQ16" or "HNSW32,SQ8". */
export function trainingNeeds(factory: string): TrainingNeeds {
  const needs: TrainingNeeds = { needsTraining: false, defaultSize: 0, minimum: 1, minimumReason: "1" };
  const need = (defaultSize: number, minimum: number, minimumReason: string) => {
    needs.needsTraining = true;
    needs.defaultSize = Math.max(needs.defaultSize, defaultSize);
    if (minimum > needs.minimum) Object.assign(needs, { minimum, minimumReason });
  };
  for (const part of factory.split(",").map((p) => p.trim())) {
    const ivf = /^IVF(\d+)/i.exec(part);
    const pq = /^PQ\d+(?:x(\d+))?/i.exec(part);
    if (ivf) {
      const nlist = Number(ivf[1]);
      need(POINTS_PER_CENTROID * nlist, nlist, `the number of IVF lists (${nlist})`);
    } else if (/^OPQ\d+/i.test(part)) {
      need(POINTS_PER_CENTROID * PQ_CENTROIDS, PQ_CENTROIDS, `the ${PQ_CENTROIDS} centroids of OPQ's quantizer`);
    } else if (pq) {
      const centroids = 2 ** Number(pq[1] ?? 8);
      need(POINTS_PER_CENTROID * centroids, centroids, `the ${centroids} centroids of each PQ sub-quantizer`);
    } else if (/^SQ(?!fp16)\w+/i.test(part)) {
      need(SCALAR_QUANTIZER_TRAIN_SIZE, 1, "1");
    }
  }
  if (!needs.needsTraining) needs.defaultSize = POINTS_PER_CENTROID * PQ_CENTROIDS;
  return needs;
}

/**
 * The factory string faiss builds: PQ parts without a suffix get "np". faiss' factory
 * otherwise adds polysemous training to every PQ (a simulated annealing over the codes),
 * which only pays off for searches with a Hamming threshold (`ht`), never used here:
 * training "IVF16,PQ8" on 10k 64-d vectors took 160 s with it and 17 s without (on a busy
 * 2-core machine), and searches without `ht` use the codes the same way.
 */
export function factoryToBuild(factory: string): string {
  return factory.replace(/(^|,)(\s*PQ\d+(?:x\d+)?)(?=\s*(?:,|$))/gi, "$1$2np");
}

/**
 * `size` of the positions 0..count-1, drawn at random with a fixed seed (Floyd's method)
 * and sorted, or all of them when `size` >= `count`. Random rather than every n-th, so
 * vectors added in a periodic order (cluster by cluster, camera by camera) are sampled fairly.
 */
export function trainingSample(count: number, size: number): number[] {
  if (size >= count) return Array.from({ length: count }, (_, i) => i);
  const random = seededRandom(SAMPLE_SEED);
  const chosen = new Set<number>();
  for (let j = count - size; j < count; j++) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}
