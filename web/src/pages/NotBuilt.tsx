import { useTitle } from '../hooks.ts';

const PAGES = {
  review: {
    title: 'Review',
    what: 'a keyboard-driven approve / reject / rate queue with reason tags, the judge’s answer per question next to each image, and the items where judges and people disagree first',
    missing: 'the review service',
  },
  'fine-tunes': {
    title: 'Fine-tunes',
    what: 'datasets, fine-tune jobs with status and progress, and the tuned models with their evaluation',
    missing: 'fine-tuning',
  },
  usage: {
    title: 'Usage',
    what: 'cost and images per team, application and model over time, and budgets',
    missing: 'a usage service (the batch service)',
  },
} as const;

export type NotBuiltPage = keyof typeof PAGES;

/** A page whose server feature does not exist yet: it says so, and shows no made-up data. */
export function NotBuilt({ page }: { page: NotBuiltPage }) {
  const info = PAGES[page];
  useTitle(info.title);
  return (
    <div className="page">
      <header className="page-head">
        <h1>{info.title}</h1>
      </header>
      <section className="panel notice" aria-labelledby="nb-h">
        <h2 id="nb-h">Not built yet</h2>
        <p>
          This page will show {info.what}. This server does not have {info.missing} yet, so there is nothing
          to show here: the page lights up when that feature lands.
        </p>
      </section>
    </div>
  );
}
