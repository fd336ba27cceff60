/**
 * A fresh project that installs this package the way a user does: from the packed tarball,
 * with the README's recipe for machines without GitHub access
 * (`npm install --ignore-scripts <tarball> @langchain/core`, then
 * `npm rebuild langchain-image-embeddings`). The packing and the install run once per test
 * file; each test file decides what else its project installs.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import semver from "semver";
import { ensureBuilt } from "./ensure_built.js";
import { ROOT, tempDir } from "./fixtures.js";
import { runProcess } from "./run_process.js";

export const PACKAGE_NAME = "langchain-image-embeddings";

export interface CommandResult {
  /** The command line, for messages. */
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Kills the command (SIGKILL) after this long. Default: 10 minutes. */
  timeoutMs?: number;
}

/**
 * The environment for a command in the consumer project: this process's, less npm's
 * `npm_*` variables (set when the tests run under `npm test`; npm would read them as the
 * consumer's config, e.g. the repository's prefix) and `INIT_CWD`.
 */
export function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== "INIT_CWD") env[key] = value;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Runs a command in the consumer's environment to completion, collecting its output. Never rejects for a non-zero exit. */
export async function runCommand(command: string, args: string[], options: RunOptions): Promise<CommandResult> {
  const { status, ...result } = await runProcess(command, args, {
    cwd: options.cwd,
    env: consumerEnv(options.env),
    timeoutMs: options.timeoutMs ?? 10 * 60_000,
  });
  return { ...result, code: status };
}

/** Throws with the command's output unless it exited 0. */
export function expectSuccess(result: CommandResult): CommandResult {
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited ${result.code}`;
    throw new Error(`\`${result.command}\` ${how}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** The log of commands as a terminal shows them: each command line, then its output. */
export function transcript(results: CommandResult[]): string {
  return results.map((r) => `$ ${r.command}\n${r.stdout}${r.stderr}`).join("\n");
}

/**
 * Packs this repository (dist/ rebuilt first when stale) into `destination` and returns the
 * tarball's path. `--ignore-scripts` skips the prepack build: `ensureBuilt` already made it,
 * and a second build would empty dist/ under tests that are using it.
 */
export async function packPackage(destination: string): Promise<string> {
  await ensureBuilt();
  await mkdir(destination, { recursive: true });
  const packed = expectSuccess(
    await runCommand("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", destination], {
      cwd: ROOT,
    }),
  );
  const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
  return join(destination, filename);
}

export interface ConsumerProjectOptions {
  /**
   * Installed with the package and `@langchain/core`, in the same command; a
   * `@langchain/core@<version>` here replaces the plain one. Default: none.
   */
  packages?: string[];
  /** The project's package.json "type". Default: "module". */
  type?: "module" | "commonjs";
  /** The project's package.json "overrides", written before the install. Default: none. */
  overrides?: Record<string, string>;
}

export interface ConsumerProject {
  /** The project's directory (holding package.json and node_modules). */
  dir: string;
  /** The packed package. */
  tarball: string;
  /** The install recipe's two commands and their output, as a user would see them. */
  installLog: string;
  /** Runs a command in the project. */
  run(command: string, args: string[], options?: Omit<RunOptions, "cwd">): Promise<CommandResult>;
  /** Copies a file of test/fixtures/consumer into the project (as `as`, default the same name). */
  addFixture(name: string, as?: string): Promise<string>;
  /** Removes the project and the tarball. */
  cleanup(): Promise<void>;
}

/** npm options for every install: warnings shown (EBADENGINE is a warning), no audit or fund notices. */
export const NPM_QUIET = ["--no-audit", "--no-fund", "--loglevel=warn"];

/**
 * Packs the package, creates a project in a temporary directory and installs the tarball
 * there with the recipe for machines without GitHub access. Throws, with the log, when
 * either command fails; the caller asserts on `installLog` for the rest.
 */
export async function createConsumerProject(options: ConsumerProjectOptions = {}): Promise<ConsumerProject> {
  const { dir: root, cleanup } = await tempDir("lie-consumer-");
  const packages = options.packages ?? [];
  try {
    const tarball = await packPackage(join(root, "pack"));
    const dir = join(root, "project");
    await mkdir(dir);
    const manifest = {
      name: "consumer",
      version: "1.0.0",
      private: true,
      type: options.type ?? "module",
      ...(options.overrides ? { overrides: options.overrides } : {}),
    };
    await writeFile(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);

    const run = (command: string, args: string[], runOptions: Omit<RunOptions, "cwd"> = {}) =>
      runCommand(command, args, { ...runOptions, cwd: dir });
    const install = await run("npm", [
      "install",
      "--ignore-scripts",
      ...NPM_QUIET,
      tarball,
      // The README's plain `@langchain/core`, unless the caller names a version of it.
      ...(packages.some((p) => p.startsWith("@langchain/core@")) ? [] : ["@langchain/core"]),
      ...packages,
    ]);
    // --foreground-scripts: npm hides a script's output otherwise; the log should show what our postinstall did.
    const rebuild = install.code === 0 ? await run("npm", ["rebuild", PACKAGE_NAME, "--foreground-scripts"]) : null;
    const steps = rebuild ? [install, rebuild] : [install];
    const installLog = transcript(steps);
    for (const step of steps) {
      if (step.code !== 0) throw new Error(`Installing the package as a consumer failed:\n${installLog}`);
    }

    return {
      dir,
      tarball,
      installLog,
      run,
      async addFixture(name, as = name) {
        const target = join(dir, as);
        await writeFile(target, await readFile(join(ROOT, "test/fixtures/consumer", name)));
        return target;
      },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Disk usage of `path` in bytes (`du -sk`), as `du -s --si` would round it: what a user's disk holds. */
export async function diskUsageBytes(path: string): Promise<number> {
  const du = expectSuccess(await runCommand("du", ["-sk", path], { cwd: ROOT }));
  return Number(du.stdout.split(/\s/)[0]) * 1024;
}

/**
 * Every package under `nodeModules` (nested ones too) whose `engines.node` does not admit
 * `nodeVersion`, as "name@version (engines.node range)". npm prints EBADENGINE for these
 * when it runs on such a Node; this finds them for a Node that is not the one running.
 */
export async function packagesRejectingNode(nodeModules: string, nodeVersion: string): Promise<string[]> {
  const rejecting: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith("@")) {
        await visit(path);
        continue;
      }
      const manifest = await readFile(join(path, "package.json"), "utf8").catch(() => null);
      if (manifest === null) continue;
      const { name, version, engines } = JSON.parse(manifest) as {
        name: string;
        version: string;
        engines?: { node?: string };
      };
      const range = engines?.node;
      if (range && !semver.satisfies(nodeVersion, range)) rejecting.push(`${name}@${version} (engines.node ${range})`);
      await visit(join(path, "node_modules"));
    }
  };
  await visit(nodeModules);
  return rejecting.sort();
}
