-- The quality gate (src/quality): cached question sets, every judge answer, human reviews and
-- pairwise preferences, the review queue.

-- One question set per application version and item (the item is its variables, canonical JSON
-- hashed). Teams may edit a set; the edit is kept with who made it.
CREATE TABLE quality_questions (
  application text NOT NULL,
  app_version integer NOT NULL,
  item_key text NOT NULL,            -- sha256 of the item's variables, keys sorted
  vars jsonb NOT NULL,
  questions jsonb NOT NULL,
  writer text NOT NULL,              -- 'rubric', the question-writing model, or 'team'
  edited_by text,
  edited_team text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (application, app_version, item_key)
);

-- Each answer a judge gave about a stored image: the raw material of calibration.
CREATE TABLE quality_answers (
  image_id text NOT NULL,
  application text,
  team text NOT NULL,
  model text NOT NULL,               -- the image model
  judge text NOT NULL,
  path text NOT NULL CHECK (path IN ('native', 'logprobs', 'prompted', 'pixels', 'ensemble', 'none')),
  question_id text NOT NULL,
  category text NOT NULL,
  critical boolean NOT NULL,
  expected text NOT NULL CHECK (expected IN ('yes', 'no')),
  answer text NOT NULL CHECK (answer IN ('yes', 'no', 'unsure')),
  p_yes double precision,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_id, judge, question_id)
);
CREATE INDEX quality_answers_app_idx ON quality_answers (application, created_at DESC);

-- The gate's outcome per stored image (score and verdict), for calibration against people.
CREATE TABLE quality_verdicts (
  image_id text PRIMARY KEY,
  application text,
  team text NOT NULL,
  model text NOT NULL,
  judge text NOT NULL,
  round integer NOT NULL,
  score double precision,
  passed boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_verdicts_app_idx ON quality_verdicts (application, created_at DESC);

-- Images waiting for people: what the gate passed, a sample of what it failed, or all.
CREATE TABLE quality_review_queue (
  image_id text PRIMARY KEY,
  application text NOT NULL,
  team text NOT NULL,
  reason text NOT NULL CHECK (reason IN ('passed', 'failed-sample', 'all')),
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE INDEX quality_review_queue_idx ON quality_review_queue (team, application, created_at, image_id);

-- One verdict per reviewer per image; several reviewers per image give inter-rater agreement.
CREATE TABLE quality_reviews (
  image_id text NOT NULL,
  application text NOT NULL,
  team text NOT NULL,
  reviewer text NOT NULL,
  verdict text CHECK (verdict IN ('approve', 'reject')),
  reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
  rating smallint CHECK (rating BETWEEN 1 AND 5),
  note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_id, reviewer)
);
CREATE INDEX quality_reviews_app_idx ON quality_reviews (application, created_at DESC);

-- "Of these two images of one item, this one is better."
CREATE TABLE quality_preferences (
  image_a text NOT NULL,
  image_b text NOT NULL,
  application text NOT NULL,
  team text NOT NULL,
  reviewer text NOT NULL,
  preferred text NOT NULL CHECK (preferred IN ('a', 'b', 'tie')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_a, image_b, reviewer)
);
