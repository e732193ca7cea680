"""The word lists and short regexes the verdict parser reads with (the vocabulary of the package docstring)."""

from __future__ import annotations

import re

from spotfake.harness.types import Label

OTHER: dict[str, Label] = {"real": "fake", "fake": "real"}


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ----------------------------------------------------------------------------------------- vocabulary
IMAGE_NOUNS = word_set(
    "image photo photograph picture pic snapshot shot frame video clip footage face portrait selfie "
    "screenshot one content sample input document photography scan render rendering artwork creation"
)
IMAGE_PLURALS = word_set(
    "images photos photographs pictures pics snapshots shots frames videos clips faces portraits "
    "selfies screenshots ones samples documents scans"
)
# Heads that stand for the whole image (or for the answer itself) as the subject of a claim.
_ANSWER_NOUNS = word_set(
    "verdict answer conclusion classification prediction judgment judgement assessment determination "
    "decision guess"
)
COLON_NOUNS = word_set("label result output response")  # markers only as "Label: fake", never "the label is"
MARKER_NOUNS = _ANSWER_NOUNS | COLON_NOUNS
WHOLE_HEADS = word_set("it this everything nothing all i we there") | IMAGE_NOUNS | _ANSWER_NOUNS
NEGATORS = word_set(
    "not no never nor neither without hardly barely scarcely nothing none unlikely doubt doubtful "
    "lack lacks lacking absence free devoid far than instead inconsistent"
)
# Verbs that put a verdict word in predicate position ("is fake", "looks real", "classified as fake").
VERBS = word_set(
    "is are was were be been being am look looks looked looking appear appears appeared appearing "
    "seem seems seemed seeming like resemble resembles resembling classify classified classifying "
    "consider considered considering deem deemed judge judged label labeled labelled categorize "
    "categorized identify identified call called rate rated mark marked become becomes remain remains "
    "show shows showed shown showing exhibit exhibits exhibiting display displays displaying contain "
    "contains containing bear bears bearing reveal reveals revealing have has had having suggest "
    "suggests suggesting suggested indicate indicates indicating indicated imply implies point points "
    "pointing think thinks thought believe believes believed say says said feel feels guess suspect "
    "suspected conclude concluded see saw find found detect detected determine determined lean leans "
    "leaning"
)
EVIDENCE = word_set(
    "sign signs evidence indication indications indicator indicators trace traces hint hints hallmark "
    "hallmarks clue clues mark marks telltale artifact artifacts artefact artefacts indicative "
    "suggestive consistent characteristic typical result product proof"
)
EVIDENCE_LINKS = word_set("of that with to")
WINDOW = 24  # how far around a verdict word hedges and concessions are looked for, in tokens
# Function words through which a negation or a verb reaches a verdict word.
TRANSPARENT = (
    word_set(
        "a an the this that it its to of as i we me my our in about with at all any also both either "
        "do does did can could would should may might must will shall just only still even more most "
        "very highly quite fairly rather pretty almost nearly entirely completely totally full fully wholly "
        "truly really actually indeed likely probably possibly perhaps maybe definitely certainly "
        "clearly obviously surely undoubtedly evidently apparently seemingly digitally artificially "
        "partially partly heavily slightly somewhat strongly fact overall some obvious clear visible "
        "apparent noticeable significant major strong definite digital ai so too genuinely distinct "
        "distinctive discernible detectable towards toward bit little kind sort"
    )
    | IMAGE_NOUNS
    | WHOLE_HEADS
)
HEAD_SKIP = (
    word_set(
        "do does did can could would should may might must will shall not no never to also still "
        "really actually indeed likely probably possibly perhaps maybe definitely certainly clearly "
        "obviously surely undoubtedly evidently apparently seemingly most very highly quite almost "
        "truly entirely completely just only even in fact"
    )
    | VERBS
)
DETERMINERS = word_set(
    "a an the this that these those its their his her my our your some any each every entire whole "
    "overall given provided above below following same original first second third fourth left right "
    "top bottom other single current displayed shown uploaded attached main full"
)
PREPOSITIONS = word_set(
    "in of on from within at with inside across throughout around near behind under over along "
    "between into about for by among beneath beside"
)
# Words that may follow a predicative verdict word ("is fake because", "looks real overall").
FOLLOW_OK = (
    word_set(
        "to in and or but with based due because given as since from by for at overall here though "
        "although however too either yet judging considering looking according rather not nor than so "
        "then now after upon when where while whereas enough beyond indeed all the this it its there i "
        "we which that if unless whether owing thanks is was are be also anyway instead altogether "
        "entirely about using via through"
    )
    | IMAGE_NOUNS
)
DETECTED = word_set("detected found present evident visible apparent observed noticeable discernible")

# Verdict words. rw/rn/ra/rl = real family; fw/fn/fa/ul = fake family (see _match_label).
RW = word_set(
    "real authentic genuine unedited unaltered unmodified unmanipulated untampered undoctored "
    "unretouched legitimate"
)
AI_ALONE_NEXT = frozenset(
    {"", ".", "!", ",", ";", ":", ")", "-", "because", "since", "as", "due", "and", "or"}
)
RW_NOT_BEFORE = word_set("world life time estate deal number numbers")
RN = word_set("natural original actual camera camera-captured camera-taken real-world real-life") | RW
AI_PREFIXES = word_set(
    "ai computer machine gan diffusion algorithmically digitally artificially synthetically model neural"
)
_COMPOUND_AGENTS = word_set(
    "gan gans midjourney dall-e dalle stable-diffusion sd gpt sora flux imagen software algorithm "
    "generator ai-model"
)
PARTICIPLES = word_set(
    "generated created made synthesized synthesised produced rendered fabricated manipulated altered "
    "edited modified"
)
FW = (
    word_set(
        "fake faked fakes deepfake deepfakes deep-fake forged forgery forgeries counterfeit synthetic "
        "synthesized synthesised generated manipulated tampered doctored edited altered modified "
        "photoshopped retouched fabricated spliced composited composite swapped face-swapped faceswapped "
        "morphed cgi inauthentic"
    )
    | frozenset(f"{p}-{q}" for p in AI_PREFIXES | _COMPOUND_AGENTS for q in PARTICIPLES)
    | frozenset(f"{p}{q}" for p in ("ai",) for q in PARTICIPLES)
)
FN = word_set(
    "manipulation manipulations tampering editing alteration alterations modification modifications "
    "photoshopping doctoring fabrication splicing face-swap face-swapping faceswap synthesis generation "
    "ai-generation"
)
FAKE_AGENT_VERBS = PARTICIPLES | word_set("drawn painted designed composed crafted")
AGENT_PREPS = word_set("by with using via through in from")
AI_AGENTS = word_set(
    "ai artificial gan gans diffusion stable midjourney dall-e dalle generative neural machine deep "
    "computer computers software algorithm algorithms text-to-image generator generators model models "
    "photoshop program programs tool tools app apps ai-based"
)
AGENT_FILLERS = word_set(
    "a an the some advanced modern powerful sophisticated popular state-of-the-art image photo editing "
    "an digital specialized specialised"
)
REAL_AGENT_VERBS = word_set("taken captured shot photographed recorded snapped filmed")
REAL_AGENT_PREPS = word_set("by with using on in from through")
CAMERA_AGENTS = word_set(
    "camera cameras phone phones smartphone smartphones cellphone cellphones dslr photographer "
    "photographers lens real-world real-life reality nature iphone"
)
REAL_FILLERS = word_set(
    "a an the actual digital physical professional human mobile regular ordinary standard conventional"
)
TRIGGERS = (
    RN
    | FW
    | FN
    | AI_PREFIXES
    | FAKE_AGENT_VERBS
    | REAL_AGENT_VERBS
    | word_set("realistic unrealistic unreal deep face bona artificial")
)
REAL_GROUPS = frozenset({"ra", "rw", "rn", "rl"})
PHRASES = frozenset({"ra", "fa"})

# Sentences and clauses.
_CLAUSE_PUNCT = frozenset({",", ";", ":", "(", ")", "-", "--"})
BOUNDARY_WORDS = word_set(
    "but however although though while whilst whereas yet because since so therefore thus hence which "
    "who unless if whether despite nevertheless nonetheless when where except"
)
CONDITIONAL = word_set("if whether unless")
CONCESSIVE = word_set("although though while whilst whereas despite")
CONTRAST = word_set("but however yet nevertheless nonetheless")
RELATIVE = word_set("which who")
DISJUNCTIONS = frozenset(
    {
        ("or",),
        ("/",),
        ("nor",),
        ("vs",),
        ("versus",),
        ("or", "a"),
        ("or", "an"),
        ("nor", "a"),
        ("or", "is", "it"),
    }
)

CUTS = _CLAUSE_PUNCT | BOUNDARY_WORDS

# Short regexes, run only on a few joined tokens.
HEDGE_TRIGGERS = word_set(
    "impossible difficult hard unable tough tricky way unsure uncertain inconclusive unclear undetermined "
    "not insufficient may might could"
)
HEDGE_RE = re.compile(
    r"\b(?:(?:impossible|difficult|hard|unable|tough|tricky|no way) to|unsure|uncertain|inconclusive|"
    r"(?:is|remains?|still) unclear|unclear (?:whether|if)|undetermined|"
    r"not (?:possible|sure|certain|clear|able|enough|confident|known|necessarily|always|definitively|"
    r"conclusively)|(?:can|could|will|would) not (?:tell|determine|say|know|verify|confirm|judge|assess|"
    r"ascertain|conclude|decide|definitively|be (?:sure|certain|determined))|do not know|insufficient|"
    r"not (?:mean|prove|guarantee|imply|confirm|establish)|(?:may|might|could) or (?:may|might|could) not)\b"
)
CONCESSIVE_TRIGGERS = word_set(
    "first initially surface superficially seemingly may might could can pass untrained casual"
)
CONCESSIVE_RE = re.compile(
    r"\b(?:at first (?:glance|sight)|initially|on the surface|superficially|seemingly|"
    r"(?:may|might|could|can) (?:look|appear|seem)|could pass|to the untrained eye|at a casual glance)\b"
)
CONCLUSION_RE = re.compile(
    r"(?:in conclusion|therefore|thus|hence|overall|in summary|to summari[sz]e|to sum up|to conclude|"
    r"ultimately|all in all|consequently|finally|so ,|in short|based on (?:this|these|that|the|my|all|such)|"
    r"given (?:these|this|the)|(?:this|these|all these|such|they|it all|all of these)(?: [a-z-]+){0,3} "
    r"(?:suggests?|indicates?|confirms?|shows?|points?|implies|imply|strongly))\b"
)
CONTRAST_START_RE = re.compile(
    r"(?:however|but|yet|nevertheless|nonetheless|that said|(?:on|upon) (?:closer|further) (?:inspection|"
    r"look|examination|analysis)|in reality|actually|in fact|on the other hand|looking closer)\b"
)
YES = word_set("yes yeah yep yup")
NO = word_set("no nope")
YES_NO_LEAD = word_set(
    "i think believe would say definitely certainly absolutely probably likely surely most"
)
NO_FOLLOW = frozenset({",", ".", "!", ";", ":", "-", "it", "this", "that", "the", "i", "not", ""})
MARKER_PRE = word_set("my the our final short overall best")
