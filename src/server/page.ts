/**
 * The web page served by `image-embeddings serve`: one HTML file, one stylesheet and
 * one script, all served by this package (no CDN, no build step). The script builds
 * every element from text with `textContent`, never from HTML strings, so file names
 * cannot inject markup.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Image search</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<header>
  <h1>Image search</h1>
  <p id="info" class="muted">Loading the index…</p>
  <nav>
    <button type="button" id="tab-search" class="tab active" aria-pressed="true">Search</button>
    <button type="button" id="tab-duplicates" class="tab" aria-pressed="false">Duplicates</button>
  </nav>
</header>
<main>
  <section id="search-view">
    <form id="search-form" autocomplete="off">
      <input id="query" name="q" type="search" placeholder="Describe an image, e.g. a dog on a beach (or: red car - red + blue)" aria-label="Search query">
      <label class="muted">k <input id="k" name="k" type="number" min="1" max="200" value="24"></label>
      <button type="submit">Search</button>
    </form>
    <div id="drop" tabindex="0">
      <img id="query-preview" alt="" hidden>
      <span>Drop an image here, or <label class="link">choose one<input id="upload" type="file" accept="image/*" hidden></label>, to find similar images</span>
    </div>
    <p id="status" class="muted" role="status"></p>
    <div id="results" class="grid"></div>
  </section>
  <section id="duplicates-view" hidden>
    <form id="duplicates-form">
      <label>Similarity at least <input id="threshold" type="number" min="0" max="1" step="0.01" value="0.95"></label>
      <button type="submit">Find duplicates</button>
    </form>
    <p id="duplicates-status" class="muted" role="status"></p>
    <div id="groups"></div>
  </section>
</main>
<script src="/app.js"></script>
</body>
</html>
`;

export const PAGE_CSS = `:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fafafa; --card: #fff; --muted: #6b6b70; --accent: #2557d6; --line: #ddd; }
@media (prefers-color-scheme: dark) { :root { --fg: #eee; --bg: #161618; --card: #222226; --muted: #a0a0a8; --accent: #7ea2ff; --line: #3a3a40; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 16px 24px 0; border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 20px; }
nav { margin-top: 8px; display: flex; gap: 4px; }
.tab { border: 1px solid var(--line); border-bottom: none; background: transparent; color: var(--fg); padding: 6px 14px; border-radius: 6px 6px 0 0; cursor: pointer; }
.tab.active { background: var(--card); font-weight: 600; }
main { padding: 16px 24px; }
form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
#query { flex: 1 1 420px; padding: 8px 10px; font-size: 16px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); }
input[type=number] { width: 5em; padding: 6px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); }
button { padding: 8px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; font-size: 14px; }
button.secondary { background: transparent; color: var(--accent); padding: 4px 8px; font-size: 13px; }
#drop { margin-top: 12px; padding: 14px; border: 2px dashed var(--line); border-radius: 8px; display: flex; align-items: center; gap: 12px; color: var(--muted); }
#drop.over { border-color: var(--accent); color: var(--accent); }
#query-preview { width: 64px; height: 64px; object-fit: cover; border-radius: 4px; }
.link { color: var(--accent); text-decoration: underline; cursor: pointer; }
.muted { color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; display: flex; flex-direction: column; }
.card a.thumb { display: block; aspect-ratio: 1; background: #8881; }
.card img { width: 100%; height: 100%; object-fit: contain; display: block; }
.card .meta { padding: 6px 8px 8px; display: flex; flex-direction: column; gap: 4px; }
.score { font-variant-numeric: tabular-nums; font-weight: 600; }
.name { font-size: 13px; overflow-wrap: anywhere; }
.path { font-size: 11px; color: var(--muted); overflow-wrap: anywhere; }
.group { margin-bottom: 20px; }
.group h2 { font-size: 15px; margin: 0 0 8px; }
`;

export const PAGE_JS = `"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, children = []) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const child of children) node.append(child);
    return node;
  };
  const fileName = (path) => path.split(/[\\\\/]/).pop();
  const copies = (n) => (n === 0 ? "" : " (+" + n + (n === 1 ? " copy)" : " copies)"));

  async function api(url, init) {
    const response = await fetch(url, init);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || response.status + " " + response.statusText);
    return body;
  }

  function card(hit) {
    const link = el("a", { className: "thumb", href: hit.image, target: "_blank", rel: "noopener", title: hit.paths.join("\\n") }, [
      el("img", { src: hit.thumb, alt: fileName(hit.path), loading: "lazy" }),
    ]);
    const more = el("button", { type: "button", className: "secondary more", textContent: "More like this" });
    more.addEventListener("click", () => moreLikeThis(hit));
    const meta = el("div", { className: "meta" }, [
      el("span", { className: "score", textContent: hit.score === undefined ? "" : hit.score.toFixed(3) }),
      el("span", { className: "name", textContent: fileName(hit.path) + copies(hit.paths.length - 1) }),
      el("span", { className: "path", textContent: hit.path }),
      more,
    ]);
    const node = el("div", { className: "card result" }, [link, meta]);
    node.dataset.id = hit.id;
    node.dataset.path = hit.path;
    return node;
  }

  function show(results, label) {
    $("results").replaceChildren(...results.map(card));
    $("status").textContent = results.length === 0 ? "No results for " + label + "." : results.length + " results for " + label + ".";
  }

  // Only the latest request's answer is shown, whatever order answers arrive in.
  let searchCount = 0;
  async function run(label, request) {
    const mine = ++searchCount;
    $("status").textContent = "Searching…";
    try {
      const body = await request();
      if (mine === searchCount) show(body.results, label);
    } catch (error) {
      if (mine !== searchCount) return;
      $("results").replaceChildren();
      $("status").textContent = "Error: " + error.message;
    }
  }

  const k = () => encodeURIComponent($("k").value || "24");

  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = $("query").value.trim();
    if (!q) return;
    $("query-preview").hidden = true;
    run('"' + q + '"', () => api("/api/search?q=" + encodeURIComponent(q) + "&k=" + k()));
  });

  function moreLikeThis(hit) {
    selectTab("search");
    $("query-preview").src = hit.thumb;
    $("query-preview").hidden = false;
    window.scrollTo({ top: 0 });
    run("images like " + fileName(hit.path), () => api("/api/similar/" + encodeURIComponent(hit.id) + "?k=" + k()));
  }

  function searchByImage(file) {
    if (!file) return;
    const preview = $("query-preview");
    if (preview.src.startsWith("blob:")) URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    run("images like " + file.name, () =>
      api("/api/search-image?k=" + k(), { method: "POST", headers: { "Content-Type": file.type || "application/octet-stream" }, body: file }),
    );
  }

  $("upload").addEventListener("change", (event) => searchByImage(event.target.files[0]));
  const drop = $("drop");
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  document.addEventListener("dragleave", (event) => {
    if (event.relatedTarget === null) drop.classList.remove("over");
  });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    searchByImage(event.dataTransfer.files[0]);
  });

  function selectTab(name) {
    for (const tab of ["search", "duplicates"]) {
      $(tab + "-view").hidden = tab !== name;
      $("tab-" + tab).classList.toggle("active", tab === name);
      $("tab-" + tab).setAttribute("aria-pressed", String(tab === name));
    }
  }
  $("tab-search").addEventListener("click", () => selectTab("search"));
  $("tab-duplicates").addEventListener("click", () => {
    selectTab("duplicates");
    if (!$("groups").hasChildNodes()) loadDuplicates();
  });

  let duplicatesCount = 0;
  async function loadDuplicates() {
    const mine = ++duplicatesCount;
    $("duplicates-status").textContent = "Comparing every pair of images…";
    try {
      const body = await api("/api/duplicates?threshold=" + encodeURIComponent($("threshold").value));
      if (mine !== duplicatesCount) return;
      $("groups").replaceChildren(
        ...body.groups.map((group, i) => {
          const [low, high] = [group.minSimilarity.toFixed(3), group.maxSimilarity.toFixed(3)];
          const range = low === high ? low : low + "–" + high;
          const cards = group.images.flatMap((image) => image.paths.map((path) => card({ ...image, path, paths: [path], score: undefined })));
          return el("div", { className: "group" }, [el("h2", { textContent: "Group " + (i + 1) + ": " + group.files + " files, similarity " + range }), el("div", { className: "grid" }, cards)]);
        }),
      );
      $("duplicates-status").textContent = body.groups.length === 0 ? "No duplicates at similarity ≥ " + body.threshold + "." : body.groups.length + (body.groups.length === 1 ? " group." : " groups.");
    } catch (error) {
      if (mine === duplicatesCount) $("duplicates-status").textContent = "Error: " + error.message;
    }
  }
  $("duplicates-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadDuplicates();
  });

  api("/api/info").then(
    (info) => ($("info").textContent = info.entries + " images indexed · model " + info.model + " · " + info.indexType + " index"),
    (error) => ($("info").textContent = "Error: " + error.message),
  );
})();
`;
