export {
  ImageEmbeddings,
  DEFAULT_MODEL,
  type ImageEmbeddingsParams,
  type ImageEmbeddingResult,
  type ImageInfo,
  type EmbedImagesOptions,
} from "./embeddings/image_embeddings.js";
export type { ImageInput, RawPixels } from "./images/image_input.js";
export {
  imageBlocksOf,
  isImageContentBlock,
  type ImageContentBlock,
  type ImageUrlContentBlock,
} from "./images/image_block.js";
export type { ModelDtype, ModelLoadProgress } from "./models/model_source.js";
export type { InferenceThread } from "./models/towers.js";
export {
  ImageInputError,
  ImageBatchError,
  ModelLoadError,
  MissingDependencyError,
  DependencyConflictError,
  IncompatibleIndexError,
  StoreConnectionError,
  StoreModelMismatchError,
  QueueConnectionError,
  type StoreModelIdentity,
  type ImageInputErrorCode,
  type IncompatibleIndexField,
} from "./errors.js";
export { cosineSimilarity } from "./utils/vectors.js";
export {
  ImageFaissStore,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ImageFaissStoreArgs,
  type AddImagesOptions,
  type AddImagesResult,
  type LoadOptions,
  type StoreManifest,
} from "./vectorstores/image_faiss_store.js";
export {
  addImagesToStore,
  type AddImagesToStoreOptions,
  type AddImagesToStoreResult,
} from "./vectorstores/add_images_to_store.js";
export {
  imageDocument,
  imageDocuments,
  uuidFromContentHash,
  type ImageDocumentOptions,
  type ImageDocumentBatch,
  type ImageIdFormat,
} from "./vectorstores/image_documents.js";
export type { DistanceMetric } from "./vectorstores/faiss_index.js";
export {
  PgvectorImageStore,
  type PgvectorImageStoreArgs,
  type PgvectorAddOptions,
} from "./vectorstores/pgvector/pgvector_image_store.js";
export type { PgvectorColumns } from "./vectorstores/pgvector/identifiers.js";
export { readPgvectorStoreModel, type ReadStoreModelOptions } from "./vectorstores/pgvector/store_model.js";
export type { HnswBuildResult, HnswOptions } from "./vectorstores/pgvector/schema.js";
export { pathsOf, withPaths } from "./vectorstores/image_paths.js";
export type { MetadataFilter } from "./vectorstores/filter.js";
export {
  MultimodalRetriever,
  type MultimodalRetrieverInput,
  type MultimodalSearchOptions,
} from "./retrievers/multimodal_retriever.js";
export {
  QueryError,
  parseQueryString,
  normalizeQuery,
  describeQuery,
  type MultimodalQuery,
  type ArithmeticQuery,
  type QueryTerm,
  type QueryText,
  type QueryImage,
  type ResolvedTerm,
} from "./retrievers/query.js";
export type { VectorLookup } from "./retrievers/candidate_vectors.js";
export type { StoreScoreKind } from "./retrievers/store_scores.js";
export { imageContentBlocks, type ImageContentOptions } from "./retrievers/image_content.js";
export { findDuplicates, type DuplicateCandidate, type DuplicateGroup } from "./retrievers/find_duplicates.js";
export {
  classifyImage,
  type ClassifyImageOptions,
  type LabelScore,
  type ZeroShotEmbeddings,
} from "./embeddings/zero_shot.js";
export {
  createImageSearchTool,
  DEFAULT_IMAGE_SEARCH_DESCRIPTION,
  type ImageSearchToolOptions,
  type ImageSearchToolResult,
} from "./tools/image_search_tool.js";
export { indexFolders, type IndexFoldersOptions } from "./indexer/folder_indexer.js";
export type { IndexSummary, IndexCounts, IndexProgress, IndexFailure } from "./indexer/index_summary.js";
export { indexFoldersQueued, type QueuedIndexOptions, type QueuedIndexSummary } from "./distributed/queued_indexer.js";
export { startIndexWorker, type IndexWorker, type IndexWorkerOptions } from "./distributed/index_worker.js";
export type { BatchItem, BatchJobData, BatchJobResult } from "./distributed/batch_jobs.js";
export {
  openImageIndex,
  NoIndexError,
  DEFAULT_INDEX_DIR,
  type OpenIndexOptions,
  type OpenedIndex,
  type IndexStoreOptions,
} from "./indexer/open_index.js";
export { IndexLockedError } from "./indexer/lock.js";
export {
  searchIndex,
  similarToEntry,
  duplicateGroups,
  type SearchHit,
  type SearchIndexOptions,
} from "./indexer/search.js";
export { startImageServer, type ImageServerOptions, type RunningImageServer } from "./server/image_server.js";
export { ProjectionHead, describeShape, type HeadKind, type HeadShape } from "./heads/projection_head.js";
export {
  saveProjectionHead,
  loadProjectionHead,
  headToJson,
  headFromJson,
  HEAD_FORMAT,
  HEAD_VERSION,
} from "./heads/head_file.js";
export {
  trainProjectionHead,
  recallAt1,
  type TrainProjectionHeadOptions,
  type TrainingData,
  type TrainingLoss,
  type TrainedHead,
  type EpochStats,
} from "./training/train_head.js";
export {
  tripletLoss,
  batchHardTriplets,
  distancesFromGram,
  infoNceLoss,
  type Triplet,
  type TripletDistance,
} from "./training/losses.js";
export { ImageEncoderEmbeddings, type ImageEncoderEmbeddingsParams } from "./encoders/image_encoder_embeddings.js";
export { pool, POOLINGS, type Pooling, type BackboneOutput } from "./encoders/pooling.js";
