// API errors in plain words, in the current language.
import { ApiError, NetworkError } from './api';
import type { Messages } from './i18n';

/** A sentence for the user about `err`; the server's own message is added as detail when it has one. */
export function describeError(err: unknown, t: Messages): string {
  const e = t.errors;
  if (err instanceof NetworkError) return e.network;
  if (!(err instanceof ApiError)) return `${e.server}${t.errorDetail(String((err as Error)?.message ?? err))}`;
  const detail = err.serverMessage ? t.errorDetail(err.serverMessage) : '';
  const code = (err.code ?? '').toLowerCase();
  if (code === 'noroute' || (err.status === 404 && /no route|not found: \/api/i.test(err.serverMessage ?? ''))) return e.notYet;
  if (err.status === 401) return err.url.includes('/login') ? e.wrongLogin : e.unauthorized;
  if (err.status === 403) return e.forbidden + detail;
  if (err.status === 404 && err.url.includes('/responsible')) return e.outsideCommunity;
  if (err.status === 404) return e.notFound + detail;
  if (err.status === 409) return e.conflict;
  if (err.status === 422 && /walkable|network/i.test(err.serverMessage ?? '')) return e.offNetwork;
  if (err.status === 422) return e.unprocessable + detail;
  if (err.status === 503) return e.unavailable + detail;
  if (err.status >= 400 && err.status < 500) return e.badRequest + detail;
  return e.server;
}

/** Whether the route is missing on this server (not built yet): views then say so instead of failing. */
export function isMissingRoute(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 'NoRoute' || (err.status === 404 && /^no route/i.test(err.serverMessage ?? '')) || err.status === 405);
}
