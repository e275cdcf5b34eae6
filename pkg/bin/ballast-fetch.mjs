#!/usr/bin/env node
// The ballast-fetch command: checks a config before it is deployed. `rehearse` plays it against
// scenarios next to naive retries (rehearse.mjs); `lint`, `diff` and `fingerprint` find configs
// that behave badly under pressure and configs that drifted apart (drift.mjs). Every command
// exits 0 when clean, 1 on findings or drift, 2 on input it cannot read.
import { InputError } from "./input.mjs";

const USAGE = `usage:
  ballast-fetch rehearse <config> [--scenario NAME|file.json]... [--seed N] [--json]
                         [--max-amplification X] [--min-success Y]
  ballast-fetch presets [--json]
  ballast-fetch lint <config>... [--format text|json|sarif] [--failure-threshold error|warning]
                     [--target any|cloudflare]
  ballast-fetch diff <a> <b> [--format text|json]
  ballast-fetch fingerprint <config>... [--format text|json]

A config is a .json file, or an ES module (.mjs, .js) whose default export is the config object.

rehearse runs the config and naive retries (3 tries, no backoff, no budget) on every scenario
with the same seed (default: every preset, seed 1), prints what each did, and exits
  0  every scenario stayed within the thresholds
  1  a threshold was broken (amplification = attempts per call, default limit 2;
     success = share of calls that succeeded, not judged unless --min-success is given)
  2  the config, a scenario or an argument could not be read

lint finds configs that pass validation yet behave badly under pressure (rules BF001...,
docs/drift.md), one line each: severity, rule, file:line, field, message, then the fix.
  0  no finding at or above the failure threshold (default error)   1  some   2  unreadable input
diff lists every field whose behaviour differs, with what the difference does.
  0  same behaviour   1  they differ   2  unreadable input
fingerprint prints each config's fingerprint (what snapshot().config.fingerprint reports).
  0  one fingerprint (or one file)   1  they differ   2  unreadable input`;

function fail(message, code) {
  process.stderr.write(`ballast-fetch: ${message}\n`);
  process.exit(code);
}

const COMMANDS = {
  rehearse: async (args) => (await import("./rehearse.mjs")).rehearseCommand(args, USAGE),
  presets: async (args) => (await import("./rehearse.mjs")).presetsCommand(args, USAGE),
  lint: async (args) => (await import("./drift.mjs")).lintCommand(args, USAGE),
  diff: async (args) => (await import("./drift.mjs")).diffCommand(args, USAGE),
  fingerprint: async (args) => (await import("./drift.mjs")).fingerprintCommand(args, USAGE),
};

const [command, ...rest] = process.argv.slice(2);
try {
  if (Object.hasOwn(COMMANDS, command)) process.exitCode = await COMMANDS[command](rest);
  else if (command === undefined || command === "help" || command === "--help" || command === "-h") process.stdout.write(USAGE + "\n");
  else throw new InputError(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
} catch (e) {
  if (e instanceof InputError || e?.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || e?.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" || e?.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    fail(e.message, 2);
  }
  throw e;
}
