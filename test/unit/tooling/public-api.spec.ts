import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The public surface is lib/index.ts, and all of it: README's "Public API" lists exactly its
 * exports, and every type an exported declaration names in its public face (members,
 * parameters, heritage) is exported too, so a user can name what a signature hands them.
 * Declarations marked `@internal` are stripped from the published .d.ts (stripInternal) and
 * are not part of that face.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LIB = join(ROOT, 'lib');
const INDEX = join(LIB, 'index.ts');

const program = ts.createProgram([INDEX], {
  strict: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  noEmit: true,
});
const checker = program.getTypeChecker();

function resolved(symbol: ts.Symbol): ts.Symbol {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

const exportedSymbols = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!);
const exported = new Set(exportedSymbols.map(resolved));

const isInternal = (node: ts.Node) => ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
const isHidden = (node: ts.Node) =>
  (ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) &&
  ((ts.getCombinedModifierFlags(node as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 || ts.isPrivateIdentifier(node.name));

/** Types declared in lib/ that an exported declaration names but index.ts does not export, with who names them. */
function unexportedTypes(): string[] {
  const missing = new Map<string, string>();
  const walked = new Set<ts.Symbol>();

  const reach = (symbol: ts.Symbol, namedBy: string) => {
    const declaration = symbol.declarations?.[0];
    if (!declaration || !declaration.getSourceFile().fileName.startsWith(LIB) || symbol.flags & ts.SymbolFlags.TypeParameter) return;
    if (!exported.has(symbol) && !missing.has(symbol.name)) {
      missing.set(symbol.name, `${symbol.name} (${relative(ROOT, declaration.getSourceFile().fileName)}), named by ${namedBy}`);
    }
    walk(symbol);
  };

  const visitType = (node: ts.Node, namedBy: string): void => {
    const name = ts.isTypeReferenceNode(node)
      ? node.typeName
      : ts.isExpressionWithTypeArguments(node)
        ? node.expression
        : ts.isTypeQueryNode(node)
          ? node.exprName
          : undefined;
    const symbol = name && checker.getSymbolAtLocation(name);
    if (symbol) reach(resolved(symbol), namedBy);
    ts.forEachChild(node, (child) => visitType(child, namedBy));
  };

  const walk = (symbol: ts.Symbol) => {
    if (walked.has(symbol)) return;
    walked.add(symbol);
    for (const declaration of symbol.declarations ?? []) {
      const visit = (node: ts.Node): void => {
        if (ts.isBlock(node) || ts.isDecorator(node) || isInternal(node) || isHidden(node)) return;
        if (ts.isTypeNode(node) || ts.isExpressionWithTypeArguments(node)) return visitType(node, symbol.name);
        ts.forEachChild(node, visit);
      };
      visit(declaration);
    }
  };

  for (const symbol of exported) walk(symbol);
  return [...missing.values()].sort();
}

function readmeApiNames(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Public API\n');
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const list = section.slice(section.indexOf('\n- '));
  return [...new Set([...list.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((match) => match[1]!))].sort();
}

describe('the public API', () => {
  it('exports every type that an exported declaration names', () => {
    expect(unexportedTypes()).toEqual([]);
  }, 60_000);

  it("is listed in README's Public API section, name for name", () => {
    const names = exportedSymbols.map((symbol) => symbol.name).sort();
    expect(readmeApiNames()).toEqual(names);
  }, 60_000);
});
