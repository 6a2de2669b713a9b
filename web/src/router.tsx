import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from 'react';

/** The page's location, updated on navigate() and on the browser's back/forward. */
export function useLocation(): URL {
  const [url, setUrl] = useState(() => new URL(window.location.href));
  useEffect(() => {
    const update = () => setUrl(new URL(window.location.href));
    window.addEventListener('popstate', update);
    window.addEventListener('pixel:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('pixel:navigate', update);
    };
  }, []);
  return url;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event('pixel:navigate'));
  if (!options.replace) window.scrollTo(0, 0);
}

/** An ordinary link (it opens in a new tab, copies, …) that navigates in place on a plain click. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const { to, onClick, ...rest } = props;
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={click} {...rest} />;
}
