import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** The console's files: plain HTML, ES modules and CSS, no build step. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../dashboards/console/', import.meta.url));

/** Serves the operator console at `/` (index.html) from dashboards/console/. */
export const consoleRoutes: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, {
    root: CONSOLE_DIR,
    prefix: '/',
    index: ['index.html'],
    // An operator's screen must pick up a new console version on reload, not a cached one.
    cacheControl: true,
    maxAge: 0,
  });
};
