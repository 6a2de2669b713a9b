/**
 * The words pixel/sketch recognises. Pure data: each object word gives a shape, a main colour, an
 * accent colour and a width/height ratio; colour words tint the next object or become a swatch;
 * background phrases choose the backdrop. Keys are lower case and singular; multi-word keys
 * ("cereal box") win over their parts.
 */

export const SHAPES = [
  'circle',
  'ellipse',
  'rounded-rect',
  'triangle',
  'wedge',
  'bottle',
  'can',
  'jar',
  'box',
  'blob',
  'crescent',
  'cluster',
  'bowl',
  'cup',
  'stack',
  'leafy',
  'carrot',
  'tree',
  'fish',
  'egg',
  'loaf',
  'ring',
  'cone',
  'drumstick',
  'mushroom',
  'dotted-circle',
] as const;
export type ShapeKind = (typeof SHAPES)[number];

export interface ObjectWord {
  shape: ShapeKind;
  fill: string;
  accent: string;
  /** Width divided by height of the drawn shape. */
  aspect: number;
}

const o = (shape: ShapeKind, fill: string, accent: string, aspect = 1): ObjectWord => ({
  shape,
  fill,
  accent,
  aspect,
});

export const OBJECT_WORDS: Readonly<Record<string, ObjectWord>> = {
  // meat and fish
  steak: o('blob', '#8b2e2a', '#f1d6c8', 1.4),
  ribeye: o('blob', '#93302b', '#f3dccd', 1.3),
  'ribeye steak': o('blob', '#93302b', '#f3dccd', 1.3),
  sirloin: o('blob', '#8f3a31', '#eed3c2', 1.5),
  beef: o('blob', '#8b2e2a', '#f1d6c8', 1.4),
  'pork chop': o('blob', '#e2a58f', '#f7e3d8', 1.4),
  pork: o('blob', '#e2a58f', '#f7e3d8', 1.4),
  lamb: o('blob', '#b5524a', '#f2ddd3', 1.3),
  bacon: o('rounded-rect', '#c0504d', '#f5d0c5', 3),
  sausage: o('ellipse', '#9c4a2f', '#c46a46', 3),
  salmon: o('wedge', '#f08a5d', '#fbd3bd', 1.8),
  fish: o('fish', '#8fa9b8', '#5d7a8c', 2),
  tuna: o('wedge', '#b3364a', '#e8a0a8', 1.8),
  shrimp: o('crescent', '#f4a582', '#fbe0d0', 1.4),
  chicken: o('drumstick', '#d9a066', '#f3e9dc', 1.3),
  'chicken breast': o('blob', '#f0c9a8', '#fae6d6', 1.5),
  turkey: o('drumstick', '#c98a4b', '#f3e9dc', 1.3),
  // fruit
  apple: o('circle', '#c8102e', '#4a8a2a'),
  banana: o('crescent', '#f4d03f', '#8d6e1f', 2),
  orange: o('circle', '#f39c12', '#4a8a2a'),
  lemon: o('ellipse', '#f7e04b', '#c8b02a', 1.35),
  lime: o('ellipse', '#7cc242', '#4e8a22', 1.3),
  grape: o('cluster', '#6b2e6f', '#4a8a2a', 0.8),
  grapes: o('cluster', '#6b2e6f', '#4a8a2a', 0.8),
  strawberry: o('triangle', '#d7263d', '#3f8f29', 0.85),
  cherry: o('circle', '#a4161a', '#3f8f29'),
  watermelon: o('wedge', '#e84855', '#2f7d32', 1.6),
  pineapple: o('ellipse', '#e9b824', '#3f8f29', 0.65),
  peach: o('circle', '#f6a26b', '#e8715a'),
  pear: o('egg', '#c5d14a', '#6b8e23', 0.75),
  blueberry: o('cluster', '#3b4c8c', '#2d3a6b', 1),
  avocado: o('egg', '#5b8c2a', '#d9e59a', 0.75),
  // vegetables
  tomato: o('circle', '#e0301e', '#3f8f29'),
  lettuce: o('leafy', '#7dbb4b', '#b9df8a'),
  cabbage: o('leafy', '#9cc97a', '#d4ebbf'),
  spinach: o('leafy', '#2f6b2a', '#5f9b47'),
  carrot: o('carrot', '#ed7d31', '#3f8f29', 0.35),
  broccoli: o('tree', '#3c8d2f', '#86b85a', 0.95),
  potato: o('blob', '#c8a165', '#a88347', 1.3),
  onion: o('circle', '#d8b4a0', '#a86f55'),
  garlic: o('circle', '#f1ece0', '#cfc5ae'),
  'bell pepper': o('blob', '#e74c3c', '#3f8f29', 0.95),
  pepper: o('blob', '#e74c3c', '#3f8f29', 0.95),
  cucumber: o('ellipse', '#4a7c34', '#9cc97a', 3),
  corn: o('ellipse', '#f7d154', '#7fae4a', 0.4),
  mushroom: o('mushroom', '#c9b49a', '#efe6d8', 1.1),
  eggplant: o('egg', '#4b2a57', '#3f8f29', 0.7),
  // dairy and bakery
  cheese: o('wedge', '#f6c945', '#e0a92a', 1.5),
  egg: o('egg', '#f7f1e3', '#f2b632', 0.78),
  eggs: o('egg', '#f7f1e3', '#f2b632', 0.78),
  milk: o('box', '#f5f5f5', '#3b82f6', 0.55),
  butter: o('rounded-rect', '#f7e7a1', '#e8d27a', 1.8),
  yogurt: o('jar', '#fdfdfd', '#7fb3e6', 0.9),
  bread: o('loaf', '#c98b4a', '#e8c08a', 1.7),
  baguette: o('loaf', '#d19a55', '#edc68e', 3.5),
  croissant: o('crescent', '#d9954a', '#f0c27a', 1.6),
  cracker: o('dotted-circle', '#e5bf7a', '#b8924a'),
  crackers: o('dotted-circle', '#e5bf7a', '#b8924a'),
  cookie: o('dotted-circle', '#c68642', '#5a3a1e'),
  cake: o('stack', '#f3c6d3', '#7b3f00', 1.2),
  donut: o('ring', '#d99058', '#f28bb3'),
  muffin: o('mushroom', '#a0522d', '#e7c49a', 0.95),
  // dishes
  pizza: o('dotted-circle', '#f2c14e', '#c0392b'),
  burger: o('stack', '#a0522d', '#f2c14e', 1.3),
  sandwich: o('triangle', '#e2b56d', '#7dbb4b', 1.2),
  taco: o('crescent', '#e9b44c', '#7dbb4b', 1.5),
  salad: o('bowl', '#6fbf4a', '#e0301e', 1.6),
  soup: o('bowl', '#d35400', '#f0e6d8', 1.6),
  pasta: o('bowl', '#f3d27a', '#c0392b', 1.6),
  noodles: o('bowl', '#f3d27a', '#6b4226', 1.6),
  rice: o('bowl', '#f8f8f0', '#dcdcd0', 1.6),
  cereal: o('bowl', '#e6b85c', '#f5f5f5', 1.6),
  sushi: o('rounded-rect', '#f5f5f5', '#f08a5d', 1.2),
  fries: o('box', '#f4c542', '#c0392b', 0.8),
  'ice cream': o('cone', '#f7c6d9', '#d9a066', 0.6),
  chocolate: o('rounded-rect', '#5d3a1a', '#7a4e2a', 1.6),
  // drinks and packaging
  coffee: o('cup', '#f5f5f5', '#6f4e37', 1.1),
  tea: o('cup', '#f5f5f5', '#b5651d', 1.1),
  juice: o('bottle', '#f39c12', '#fdfdfd', 0.4),
  wine: o('bottle', '#5b1a2e', '#d9c7a0', 0.32),
  beer: o('bottle', '#8a5a2b', '#e8c84a', 0.34),
  water: o('bottle', '#aed6f1', '#2e86c1', 0.36),
  soda: o('can', '#c0392b', '#f5f5f5', 0.6),
  bottle: o('bottle', '#2e86c1', '#f5f5f5', 0.36),
  can: o('can', '#b0b7bf', '#c0392b', 0.6),
  jar: o('jar', '#e6b85c', '#7f8c8d', 0.85),
  honey: o('jar', '#e3a21a', '#f5f5f5', 0.85),
  'peanut butter': o('jar', '#b5762f', '#c0392b', 0.85),
  jam: o('jar', '#a4161a', '#f5f5f5', 0.85),
  'cereal box': o('box', '#e74c3c', '#f1c40f', 0.7),
  box: o('box', '#c9a36b', '#8b6b3d', 0.8),
  bag: o('rounded-rect', '#e67e22', '#f5f5f5', 0.75),
  chips: o('rounded-rect', '#f1c40f', '#c0392b', 0.75),
  cup: o('cup', '#f5f5f5', '#6f4e37', 1.1),
  mug: o('cup', '#3b6ea5', '#6f4e37', 1.1),
  bowl: o('bowl', '#eeeeee', '#d0d0d0', 1.6),
  plate: o('ellipse', '#fafafa', '#dddddd', 2.2),
};

export const COLOUR_WORDS: Readonly<Record<string, string>> = {
  red: '#d62828',
  orange: '#f77f00',
  yellow: '#f4d03f',
  green: '#3f8f29',
  blue: '#2e6fd8',
  purple: '#7b3fa0',
  violet: '#8e44ad',
  pink: '#f28bb3',
  magenta: '#c2185b',
  brown: '#7b4a26',
  black: '#1b1b1b',
  white: '#f7f7f7',
  grey: '#8c8c8c',
  gray: '#8c8c8c',
  gold: '#d4a017',
  golden: '#d4a017',
  silver: '#c0c6cc',
  beige: '#e3d3b4',
  cream: '#f3ead2',
  tan: '#d2b48c',
  teal: '#1f8a8a',
  turquoise: '#30c5c0',
  cyan: '#29b6d6',
  navy: '#1f2f5c',
  maroon: '#6d1a2a',
  olive: '#6b7a2a',
};

export interface BackgroundSpec {
  /** Top and bottom colours of a vertical gradient (equal for a solid fill). */
  top: string;
  bottom: string;
  /** Drawn texture, seeded: planks for wood, veins for marble. */
  texture?: 'planks' | 'veins';
}

const solid = (colour: string): BackgroundSpec => ({ top: colour, bottom: colour });

export const BACKGROUND_PHRASES: Readonly<Record<string, BackgroundSpec>> = {
  'white background': solid('#ffffff'),
  'white backdrop': solid('#ffffff'),
  'black background': solid('#111111'),
  'wooden table': { top: '#b07a4a', bottom: '#8d5a32', texture: 'planks' },
  'wood table': { top: '#b07a4a', bottom: '#8d5a32', texture: 'planks' },
  'wooden board': { top: '#c08a55', bottom: '#9c6a3c', texture: 'planks' },
  'cutting board': { top: '#c89a63', bottom: '#a77a45', texture: 'planks' },
  'butcher block': { top: '#b98552', bottom: '#935f33', texture: 'planks' },
  wood: { top: '#b07a4a', bottom: '#8d5a32', texture: 'planks' },
  marble: { top: '#f4f2ef', bottom: '#e2dfda', texture: 'veins' },
  'dark slate': { top: '#343f45', bottom: '#22292d' },
  slate: { top: '#46525a', bottom: '#333d43' },
  'kitchen counter': { top: '#ddd7cd', bottom: '#c7c0b4' },
  countertop: { top: '#ddd7cd', bottom: '#c7c0b4' },
  'butcher paper': solid('#e9dcc3'),
  parchment: solid('#efe3c8'),
  concrete: { top: '#c2bfba', bottom: '#a8a5a0' },
  linen: solid('#f1ebe0'),
  tablecloth: solid('#f1ebe0'),
  pastel: { top: '#fbe3ec', bottom: '#e3f0fb' },
};

/** Small counts in front of an object ("three apples") repeat it, up to this many. */
export const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  pair: 2,
  couple: 2,
};
