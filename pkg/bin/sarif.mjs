// Lint findings as SARIF 2.1.0 (the OASIS standard code-scanning tools read): one run, the rules
// from lintRules with their stable ids, docs links and default levels, and one result per finding
// located at the field's line in its file, with the field's path as a logical location. Stable
// ruleIds let a code-scanning service track a finding across runs.
import { lineOf } from "./locate.mjs";

const LEVEL = { error: "error", warning: "warning", info: "note" };

export function toSarif({ version, rules, files }) {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "ballast-fetch",
            version,
            informationUri: "https://github.com/ballast-fetch/ballast-fetch",
            rules: rules.map((r) => ({
              id: r.id,
              shortDescription: { text: r.title },
              helpUri: r.help,
              defaultConfiguration: { level: LEVEL[r.severity] },
            })),
          },
        },
        results: files.flatMap((f) =>
          f.findings.map((x) => ({
            ruleId: x.rule,
            ruleIndex: index.get(x.rule),
            level: LEVEL[x.severity],
            message: { text: `${x.message}. Fix: ${x.fix}.` },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: f.uri },
                  region: { startLine: lineOf(f.text, x.path) },
                },
                logicalLocations: [{ fullyQualifiedName: x.path, kind: "member" }],
              },
            ],
          })),
        ),
      },
    ],
  };
}
