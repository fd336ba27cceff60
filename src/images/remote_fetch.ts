/**
 * Downloads an image over http(s) with the limits a server needs: a timeout, a size
 * cap enforced while streaming, a content-type check and a bounded number of redirects.
 */

export interface RemoteFetchOptions {
  /** Allow http(s) URLs as inputs. Default: true. Turn off where inputs come from untrusted clients (SSRF). */
  allowRemote?: boolean;
  /** Give up on a download after this many milliseconds. Default: 30000. */
  fetchTimeoutMs?: number;
  /** Refuse downloads larger than this many bytes. Default: 50 MiB. */
  maxDownloadBytes?: number;
  /** Follow at most this many redirects. Default: 5. */
  maxRedirects?: number;
}

export const REMOTE_FETCH_DEFAULTS = {
  allowRemote: true,
  fetchTimeoutMs: 30_000,
  maxDownloadBytes: 50 * 1024 * 1024,
  maxRedirects: 5,
} satisfies Required<RemoteFetchOptions>;

type FetchFail = (reason: string, cause?: unknown) => Error;

export async function fetchImageBytes(url: URL, options: RemoteFetchOptions, fail: FetchFail): Promise<Buffer> {
  const o = { ...REMOTE_FETCH_DEFAULTS, ...stripUndefined(options) };
  if (!o.allowRemote) throw fail("remote URLs are disabled (allowRemote: false)");
  const signal = AbortSignal.timeout(o.fetchTimeoutMs);
  let current = url;
  try {
    for (let redirects = 0; ; redirects++) {
      // Redirects are followed by hand so that each hop is counted and must stay http(s).
      const response = await fetch(current, { redirect: "manual", signal });
      if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
        await response.body?.cancel();
        if (redirects >= o.maxRedirects) throw fail(`more than ${o.maxRedirects} redirects`);
        current = new URL(response.headers.get("location")!, current);
        if (current.protocol !== "http:" && current.protocol !== "https:") {
          throw fail(`redirect to unsupported protocol ${current.protocol}`);
        }
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw fail(`HTTP ${response.status} ${response.statusText}`.trim());
      }
      const type = response.headers.get("content-type") ?? "";
      if (type && !/^(image\/|application\/octet-stream)/i.test(type)) {
        await response.body?.cancel();
        throw fail(`content-type "${type}" is not an image`);
      }
      const declared = Number(response.headers.get("content-length") ?? NaN);
      if (declared > o.maxDownloadBytes) {
        await response.body?.cancel();
        throw fail(`download of ${declared} bytes exceeds maxDownloadBytes (${o.maxDownloadBytes})`);
      }
      return await readCapped(response, o.maxDownloadBytes, fail);
    }
  } catch (error) {
    if (error instanceof Error && error.name === "ImageInputError") throw error;
    if (signal.aborted) throw fail(`timed out after ${o.fetchTimeoutMs} ms`, error);
    throw fail(`download failed (${(error as Error).cause ?? (error as Error).message})`, error);
  }
}

/** Reads a body but stops as soon as it passes the cap: a lying content-length can't exhaust memory. */
async function readCapped(response: Response, maxBytes: number, fail: FetchFail): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw fail(`download exceeds maxDownloadBytes (${maxBytes})`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
