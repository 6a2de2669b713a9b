import type { ReactNode } from 'react';

/**
 * A box that scrolls sideways or down (wide tables, long JSON): focusable and named, so keyboard users can
 * scroll it too.
 */
export function ScrollBox({
  label,
  className,
  children,
}: {
  label: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: a <section> would add a landmark per table
    <div
      className={`scroll-box${className ? ` ${className}` : ''}`}
      role="region"
      aria-label={label}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
      tabIndex={0}
    >
      {children}
    </div>
  );
}
