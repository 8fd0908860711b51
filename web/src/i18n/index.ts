// Language selection. Chinese is the default; `?lang=en` or the saved choice overrides it.
import { zh } from './zh';
import { en } from './en';

export type Messages = typeof zh;
export type Lang = 'zh' | 'en';

const MESSAGES: Record<Lang, Messages> = { zh, en };
const STORAGE_KEY = 'wangge.lang';

export function messages(lang: Lang): Messages {
  return MESSAGES[lang];
}

function isLang(v: string | null): v is Lang {
  return v === 'zh' || v === 'en';
}

/** The language to start with: URL parameter, then the saved choice, then Chinese. */
export function initialLang(): Lang {
  const fromUrl = new URLSearchParams(window.location.search).get('lang');
  if (isLang(fromUrl)) return fromUrl;
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    if (isLang(saved)) return saved;
  } catch {
    // storage may be disabled; fall through
  }
  return 'zh';
}

export function saveLang(lang: Lang): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // ignore: the choice then lasts for this page only
  }
}
