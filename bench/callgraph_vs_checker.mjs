// The TypeScript checker's call graph of a project, for bench/callgraph_vs_checker.py.
//
//   node bench/callgraph_vs_checker.mjs ROOT FILES.json > sites.jsonl
//
// FILES.json lists the repo-relative source files to read (the ones cogo indexes). For every
// call expression, `new` expression and JSX element in them, the callee is resolved with
// `checker.getSymbolAtLocation` (aliases followed with `getAliasedSymbol`; a destructured
// binding followed to the property it reads) to its declaration. One JSON line per site:
// {file, line, col, kind, text, target: {file, name, line} | null, why}. `col` counts UTF-16
// units, as TypeScript does; `target.file` is repo-relative, or null outside the repo.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const ts = require("typescript");

const [root, filesJson] = process.argv.slice(2);
const files = JSON.parse(fs.readFileSync(filesJson, "utf8")).map((f) => path.resolve(root, f));

// A monorepo's files are each checked under the tsconfig that governs them (the nearest one
// above the file, as tsserver picks it), one program per config: a root config alone has no
// `paths` of the apps (`@/i18n/server` in apps/web) and the checker left those calls unresolved,
// counting every edge cogo found through them as wrong.
function nearestConfig(file) {
  let dir = path.dirname(file);
  const top = path.resolve(root);
  for (;;) {
    const candidate = path.join(dir, "tsconfig.json");
    if (fs.existsSync(candidate)) return candidate;
    if (dir === top || dir === path.dirname(dir)) return null;
    dir = path.dirname(dir);
  }
}

function options(configPath) {
  let opts = {};
  if (configPath) {
    const read = ts.readConfigFile(configPath, ts.sys.readFile);
    if (!read.error) {
      opts = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configPath)).options;
    }
  }
  return {
    ...opts, noEmit: true, skipLibCheck: true, allowJs: true, incremental: false, composite: false,
    jsx: opts.jsx ?? ts.JsxEmit.Preserve, target: opts.target ?? ts.ScriptTarget.ESNext,
    moduleResolution: opts.moduleResolution ?? ts.ModuleResolutionKind.Bundler,
    module: opts.module ?? ts.ModuleKind.ESNext,
  };
}

// The workspace's own packages (package.json `workspaces`, pnpm-workspace.yaml `packages`),
// linked under node_modules as `npm install` / `pnpm install` would link them, for the run only:
// the bench repos are unpacked sources with no install, and `@rallly/ui` (or a config's
// `extends: "@rallly/tsconfig/next.json"`) was unresolved for the checker, not for cogo.
function workspaceGlobs() {
  const globs = [];
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    const ws = Array.isArray(pkg.workspaces) ? pkg.workspaces : pkg.workspaces?.packages ?? [];
    globs.push(...ws);
  } catch {}
  try {
    let inPackages = false;
    for (const line of fs.readFileSync(path.join(root, "pnpm-workspace.yaml"), "utf8").split("\n")) {
      if (/^packages:\s*$/.test(line)) { inPackages = true; continue; }
      if (inPackages && /^\s+-\s+/.test(line)) globs.push(line.replace(/^\s+-\s+/, "").replace(/["']/g, "").trim());
      else if (inPackages && /^\S/.test(line)) inPackages = false;
    }
  } catch {}
  return globs.filter((g) => !g.startsWith("!"));
}

function linkWorkspace() {
  const made = [];
  for (const glob of workspaceGlobs()) {
    const base = glob.replace(/\/\*\*?$/, "");
    const dirs = glob.endsWith("*") ? (fs.existsSync(path.join(root, base)) ? fs.readdirSync(path.join(root, base)).map((d) => path.join(base, d)) : []) : [glob];
    for (const dir of dirs) {
      let name;
      try { name = JSON.parse(fs.readFileSync(path.join(root, dir, "package.json"), "utf8")).name; } catch { continue; }
      if (!name) continue;
      const link = path.join(root, "node_modules", name);
      if (fs.existsSync(link)) continue;
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(path.resolve(root, dir), link, "dir");
      made.push(link);
    }
  }
  return made;
}

let checker; // the program's being read (``readProgram``)
const rootAbs = path.resolve(root) + path.sep;

function rel(fileName) {
  const abs = path.resolve(fileName);
  return abs.startsWith(rootAbs) && !abs.includes(`${path.sep}node_modules${path.sep}`) ? abs.slice(rootAbs.length).split(path.sep).join("/") : null;
}

function follow(symbol, depth = 0) {
  let seen = 0;
  while (symbol && symbol.flags & ts.SymbolFlags.Alias && seen++ < 20) {
    const next = checker.getAliasedSymbol(symbol);
    if (!next || next === symbol || next.flags & ts.SymbolFlags.Unknown) break;
    symbol = next;
  }
  const decl = symbol?.declarations?.[0];
  // `export default { pagedQuery, count: countRows }`: the property stands for the value it
  // was written from
  if (decl && ts.isShorthandPropertyAssignment(decl) && depth < 20) {
    const value = checker.getShorthandAssignmentValueSymbol(decl);
    if (value && value !== symbol) return follow(value, depth + 1);
  }
  if (decl && ts.isPropertyAssignment(decl) && ts.isIdentifier(decl.initializer) && depth < 20) {
    const value = checker.getSymbolAtLocation(decl.initializer);
    if (value && value !== symbol) return follow(value, depth + 1);
  }
  // `const { a } = obj; a()`: the binding element stands for the property it reads
  if (decl && ts.isBindingElement(decl) && ts.isObjectBindingPattern(decl.parent) && depth < 20) {
    const name = decl.propertyName ?? decl.name;
    if (ts.isIdentifier(name) || ts.isStringLiteral(name)) {
      const type = checker.getTypeAtLocation(decl.parent);
      const prop = type && checker.getPropertyOfType(type, name.text);
      if (prop) return { symbol: follow(prop, depth + 1).symbol, destructured: true };
    }
  }
  return { symbol, destructured: false };
}

function declarationOf(symbol) {
  const decls = symbol?.declarations ?? [];
  // a value with a body first (a class over its merged interface, an implementation over overloads)
  const pick = symbol.valueDeclaration ?? decls.find((d) => ts.isClassLike(d) || d.body) ?? decls[0];
  if (!pick) return null;
  const sf = pick.getSourceFile();
  const nameNode = ts.getNameOfDeclaration(pick) ?? pick;
  const { line } = sf.getLineAndCharacterOfPosition(nameNode.getStart(sf));
  return { file: rel(sf.fileName), name: symbol.name, line: line + 1, declKind: ts.SyntaxKind[pick.kind] };
}

function siteKind(node) {
  if (ts.isNewExpression(node)) return "new";
  if (ts.isTaggedTemplateExpression(node)) return "tag";
  if (ts.isJsxSelfClosingElement(node) || ts.isJsxOpeningElement(node)) return "jsx";
  const callee = node.expression;
  if (callee.kind === ts.SyntaxKind.SuperKeyword) return "super()";
  if (ts.isIdentifier(callee)) return "ident";
  if (ts.isPropertyAccessExpression(callee)) {
    const obj = callee.expression;
    if (obj.kind === ts.SyntaxKind.SuperKeyword) return "super.m";
    if (obj.kind === ts.SyntaxKind.ThisKeyword) return "this.m";
    if (ts.isPropertyAccessExpression(obj) && obj.expression.kind === ts.SyntaxKind.ThisKeyword) return "this.f.m";
    if (ts.isIdentifier(obj)) return "x.m";
    if (ts.isCallExpression(obj) || ts.isNewExpression(obj)) return "f().m";
    return "expr.m";
  }
  if (callee.kind === ts.SyntaxKind.ImportKeyword) return "import";
  return "other";
}

function calleeNode(node, kind) {
  if (kind === "jsx") return node.tagName;
  const callee = kind === "tag" ? node.tag : node.expression;
  if (!callee) return null;
  if (ts.isPropertyAccessExpression(callee)) return callee.name;
  if (ts.isParenthesizedExpression(callee) || ts.isNonNullExpression(callee)) return callee.expression;
  return callee;
}

const out = [];
function readProgram(program, wanted) {
checker = program.getTypeChecker();
for (const sf of program.getSourceFiles()) {
  const file = rel(sf.fileName);
  if (!file || !wanted.has(path.resolve(sf.fileName))) continue;
  const visit = (node) => {
    if (ts.isCallExpression(node) || ts.isNewExpression(node) || ts.isTaggedTemplateExpression(node) ||
        ts.isJsxSelfClosingElement(node) || ts.isJsxOpeningElement(node)) {
      const kind = siteKind(node);
      const at = calleeNode(node, kind);
      if (kind !== "import" && at) {
        const pos = node.getStart(sf);
        const { line, character } = sf.getLineAndCharacterOfPosition(pos);
        let symbol = null, why = null, destructured = false;
        if (kind === "jsx" && ts.isIdentifier(at) && /^[a-z]/.test(at.text)) why = "intrinsic";
        else {
          symbol = checker.getSymbolAtLocation(at);
          if (kind === "super()" && symbol) {
            // the super call's symbol is the base class (its constructor)
          }
          ({ symbol, destructured } = follow(symbol));
          if (!symbol) why = "no symbol";
        }
        const target = symbol ? declarationOf(symbol) : null;
        out.push(JSON.stringify({ file, line: line + 1, col: character, kind, text: at.getText(sf).slice(0, 80), target, why, destructured }));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
}

const links = linkWorkspace();
try {
  const groups = new Map();
  for (const file of files) {
    const config = nearestConfig(file);
    if (!groups.has(config)) groups.set(config, []);
    groups.get(config).push(file);
  }
  for (const [config, group] of groups) readProgram(ts.createProgram(group, options(config)), new Set(group));
} finally {
  for (const link of links) {
    fs.unlinkSync(link);
    // and the folders made for it (`node_modules/@scope`, `node_modules`), once empty
    for (let dir = path.dirname(link); dir.startsWith(path.join(root, "node_modules")); dir = path.dirname(dir)) {
      try { fs.rmdirSync(dir); } catch { break; }
    }
  }
}
process.stdout.write(out.join("\n") + "\n");
