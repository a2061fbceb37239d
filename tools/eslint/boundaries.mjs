// The project's import boundaries, as one ESLint rule (`openmeet/boundaries`): the target of every
// relative import is resolved against the importing file, and its top-level folder checked against
// what the importer's top-level folder may use. Packages (bare specifiers) are not ours: always allowed.
//   shared/      imports nothing of ours outside shared/ (it is what every side may use);
//   web/         imports web/ and shared/, and from server/ only the tRPC router type (`import type` of server/trpc/root);
//   node-agent/  never imports server/ (a node runs without the management server's code). Tests that start
//                both sides (*.test.ts) are integration tests and may.
import { dirname, relative, resolve, sep } from 'node:path';

const ROUTER_TYPE = 'server/trpc/root';

function topFolder(root, absolute) {
  const rel = relative(root, absolute);
  return rel.startsWith('..') ? null : rel.split(sep)[0];
}

/** Why `from` (a path relative to the root) may not import `to`, or null when it may. */
export function boundaryProblem(from, to, typeOnly) {
  const src = from.split('/')[0];
  const dst = to.split('/')[0];
  if (src === dst) return null;
  if (src === 'shared') return 'shared/ imports nothing of ours outside shared/';
  if (src === 'web') {
    if (dst === 'shared') return null;
    if (dst === 'server' && to.replace(/\.(js|ts)$/, '') === ROUTER_TYPE && typeOnly) return null;
    if (dst === 'server') return "web/ imports from server/ only the tRPC router type (`import type { AppRouter } from '…/server/trpc/root.js'`)";
    return `web/ imports only web/ and shared/ (not ${dst}/)`;
  }
  if (src === 'node-agent' && dst === 'server' && !/\.test\.tsx?$/.test(from)) return 'node-agent/ never imports server/';
  return null;
}

export const boundaries = {
  meta: { type: 'problem', docs: { description: "Keeps shared/, web/ and node-agent/ within the project's import boundaries" }, schema: [] },
  create(context) {
    const root = context.cwd;
    const file = context.filename;
    const fromTop = topFolder(root, file);
    if (!fromTop) return {};
    const from = relative(root, file).split(sep).join('/');
    const check = (node, source, typeOnly) => {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = resolve(dirname(file), source.value);
      if (!topFolder(root, target)) return;
      const to = relative(root, target).split(sep).join('/');
      const problem = boundaryProblem(from, to, typeOnly);
      if (problem) context.report({ node: source, message: `Import boundary: ${problem}.` });
    };
    return {
      ImportDeclaration: (node) =>
        check(node, node.source, node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'))),
      ExportNamedDeclaration: (node) => check(node, node.source, node.exportKind === 'type'),
      ExportAllDeclaration: (node) => check(node, node.source, node.exportKind === 'type'),
      ImportExpression: (node) => check(node, node.source, false),
    };
  },
};
