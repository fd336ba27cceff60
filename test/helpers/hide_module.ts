/** A Node module-resolution hook that makes one package unresolvable, as on a machine without it. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** Writes the hook into `dir`; returns the file to pass as `node --import <file>`. */
export async function writeHideModuleHook(dir: string, specifier: string): Promise<string> {
  const hook = join(dir, `hide-${specifier}.mjs`);
  await writeFile(
    hook,
    `export async function resolve(specifier, context, next) {
       if (specifier === ${JSON.stringify(specifier)}) {
         const error = new Error("Cannot find package '${specifier}'");
         error.code = "ERR_MODULE_NOT_FOUND";
         throw error;
       }
       return next(specifier, context);
     }`,
  );
  const register = join(dir, `register-hide-${specifier}.mjs`);
  await writeFile(
    register,
    `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hook).href)});`,
  );
  return register;
}
