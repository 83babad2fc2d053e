"""Small built-in English and Chinese synonym tables for :class:`~sktransformers.TextAugmenter`.

Hand-written groups of words that can stand in for one another in most
contexts, chosen so that a replacement keeps the sentiment and the topic of
a sentence (no antonyms, no words whose main sense differs). About 950
words of everyday and review English; no download, no external thesaurus.
Each line is one group; :func:`synonym_table` turns the groups into a
word -> alternatives mapping (a word in several groups gets all of them).
:func:`chinese_synonym_table` does the same for 47 hand-written groups (133
words) of hotel and product review Chinese.
"""

from __future__ import annotations

_GROUPS = """
good fine nice decent solid
great excellent terrific superb wonderful fantastic outstanding splendid magnificent
amazing astonishing astounding stunning remarkable incredible
beautiful lovely gorgeous pretty attractive
brilliant dazzling sparkling
bad poor awful terrible dreadful lousy horrible
boring dull tedious tiresome monotonous uninteresting
funny amusing hilarious comical humorous witty
sad unhappy sorrowful melancholy gloomy
happy glad cheerful joyful delighted pleased content
angry furious irate enraged
scary frightening terrifying creepy spooky chilling
strange odd weird peculiar bizarre curious unusual
smart clever intelligent bright sharp
stupid dumb foolish silly idiotic
big large huge enormous vast massive giant
small little tiny minor slight
fast quick rapid swift speedy brisk
slow sluggish leisurely unhurried
easy simple effortless straightforward
hard difficult tough challenging demanding
important significant major crucial key vital
interesting fascinating intriguing engaging absorbing compelling gripping
exciting thrilling exhilarating electrifying
touching moving poignant affecting heartfelt
charming delightful endearing appealing enchanting
clumsy awkward inept bungling
messy sloppy untidy disorganized
confusing bewildering puzzling perplexing baffling
predictable formulaic unoriginal derivative
original fresh novel inventive innovative creative imaginative
powerful strong forceful potent mighty
weak feeble flimsy frail
honest sincere genuine candid frank
fake phony false bogus
real genuine authentic true actual
old ancient aged elderly
new recent modern fresh
young youthful juvenile
rich wealthy affluent prosperous
poor impoverished needy destitute
quiet calm peaceful tranquil serene
loud noisy deafening thunderous
dark dim gloomy murky shadowy
bright luminous radiant vivid
clean spotless pristine tidy
dirty filthy grimy grubby
cheap inexpensive affordable
expensive costly pricey
famous celebrated renowned noted acclaimed
unknown obscure anonymous
entire whole complete total full
part portion piece section segment
begin start commence
end finish conclude
make create produce build construct
show display exhibit reveal
tell say state mention report
talk speak chat converse
look see watch view observe
think believe consider suppose
know understand realize recognize
want desire wish
enjoy appreciate relish
love adore cherish treasure
hate detest loathe despise abhor
help assist aid support
try attempt endeavor
use employ utilize
need require
get obtain acquire gain receive
give provide offer supply grant
keep retain hold preserve
leave depart exit
come arrive approach
go proceed travel move
run sprint dash race
walk stroll stride wander
buy purchase
sell vend
find discover locate uncover
lose misplace
choose pick select opt
change alter modify adjust transform
fix repair mend restore
break shatter smash crack
hurt injure harm wound
kill slay murder
die perish
live reside dwell
grow expand increase rise
shrink decrease diminish reduce decline
fall drop tumble plunge
win triumph prevail succeed
fail flop falter
ask inquire query
answer reply respond
allow permit let
stop halt cease quit
continue proceed persist
seem appear
happen occur arise
hope wish expect
fear dread
worry fret
laugh chuckle giggle
cry weep sob
shout yell scream holler
smile grin beam
movie film picture flick
story tale narrative plot storyline yarn
actor performer player
director filmmaker
performance portrayal acting
scene sequence episode
ending conclusion finale climax
beginning start opening outset
character figure persona role
audience viewers spectators crowd
critic reviewer
book novel volume
writer author novelist
song tune melody
music score soundtrack
program programme series
job work occupation profession career
house home dwelling residence
car automobile vehicle
road street avenue route path
city town metropolis
country nation land
child kid youngster youth
man guy fellow gentleman
woman lady female
friend companion buddy pal ally
enemy foe adversary opponent rival
problem issue difficulty trouble snag
mistake error blunder slip
idea notion concept thought
plan scheme strategy design
goal aim objective target purpose
reason cause motive grounds
result outcome consequence effect
chance opportunity possibility
way method manner approach means
kind type sort variety
place location spot site
time moment instant
attempt effort try
talent gift skill ability flair
energy vigor vitality spirit
fun enjoyment amusement pleasure entertainment
mess muddle shambles jumble
disaster catastrophe debacle fiasco calamity
masterpiece classic gem
failure flop dud fiasco
success triumph
really truly genuinely
very extremely highly exceedingly
quite fairly rather somewhat
almost nearly practically virtually
often frequently regularly
sometimes occasionally
always constantly forever
quickly rapidly swiftly speedily
slowly gradually steadily
completely totally entirely wholly utterly fully
mostly largely mainly chiefly primarily
especially particularly notably
however nevertheless nonetheless
maybe perhaps possibly
certainly surely definitely undoubtedly
obviously clearly evidently plainly
finally eventually ultimately
suddenly abruptly unexpectedly
simply merely only
enough sufficient adequate ample
terribly awfully dreadfully horribly
beautifully gorgeously exquisitely
wonderfully marvelously splendidly
sharply keenly acutely
deeply profoundly intensely
nearby adjacent
far distant remote
many numerous countless several
few scant sparse
most majority bulk
rarely seldom infrequently
clever ingenious inventive resourceful
lazy idle sluggish indolent
brave courageous bold fearless valiant heroic
shy timid bashful reserved
friendly gentle caring kindly
cruel brutal vicious savage harsh
nasty unkind spiteful
polite courteous civil respectful
rude impolite discourteous
calm composed relaxed collected
nervous anxious uneasy tense edgy jittery
tired weary exhausted fatigued drained
sick ill unwell ailing
healthy fit robust
hungry starving famished
stuffed sated
wet damp soaked moist
dry arid parched
hot heated scorching
cold chilly freezing frosty icy
wide broad expansive
narrow thin slim slender
thick dense heavy
deep profound
shallow superficial
long lengthy extended prolonged
short brief concise
tall high lofty towering
empty vacant hollow blank
busy occupied engaged hectic
free unrestricted unconfined
safe secure protected
dangerous risky hazardous perilous unsafe
correct accurate exact precise
wrong incorrect mistaken inaccurate erroneous
possible feasible viable
impossible unfeasible unattainable
necessary essential needed required indispensable
useless pointless futile worthless
useful helpful handy valuable beneficial
special particular distinct specific
common ordinary usual typical standard normal regular
rare uncommon scarce unusual
popular favorite beloved
similar alike comparable akin
different distinct dissimilar
obvious clear evident plain apparent
hidden concealed secret
serious grave solemn somber
silly goofy daft
mature adult
childish immature juvenile
ugly hideous unsightly unattractive
perfect flawless ideal impeccable
terrific superb
worthwhile rewarding valuable
unwatchable unbearable insufferable intolerable
enjoyable pleasant pleasurable agreeable
unpleasant disagreeable nasty distasteful
annoying irritating aggravating grating
entertaining diverting amusing
forgettable unremarkable unmemorable
memorable unforgettable haunting
stylish elegant chic sleek
wooden stiff stilted
lively vibrant spirited animated energetic
flat lifeless lackluster listless
pretentious pompous
ambitious aspiring
thoughtful considerate reflective
smooth polished slick
rough coarse crude
sweet sugary saccharine
bitter sour acrid
gentle tender soft mild
fierce ferocious fiery
raw unrefined unpolished
smartly cleverly intelligently
""".strip()


def synonym_table():
    """Word -> tuple of alternatives, built from the groups (lower-case, symmetric)."""
    return _table(_GROUPS)


def _table(groups):
    """Word -> tuple of the other words of its groups (one group a line, symmetric)."""
    table = {}
    for line in groups.splitlines():
        words = line.split()
        for word in words:
            alternatives = table.setdefault(word, [])
            for other in words:
                if other != word and other not in alternatives:
                    alternatives.append(other)
    return {w: tuple(alts) for w, alts in table.items() if alts}


# Chinese: hand-written for this package (not taken from a thesaurus), for
# hotel and product reviews. Each group holds words that can stand in for one
# another without changing the sentiment; negations (不, 没, 无...) are in
# none of them. Matched as substrings of the text (Chinese has no spaces),
# longest first.
_ZH_GROUPS = """
干净 整洁 洁净
舒适 舒服 惬意
方便 便利 便捷
安静 宁静 清静
热情 热心 亲切
友好 友善 和善
满意 称心 满足
漂亮 美丽 好看
宽敞 宽大 宽阔
便宜 实惠 划算
物有所值 物超所值 性价比高
喜欢 喜爱 中意
优秀 出色 杰出
不错 挺好 蛮好
很好 非常好 特别好
温馨 温暖 温情
豪华 奢华 气派
高兴 开心 愉快
好吃 美味 可口
迅速 快速 迅捷
及时 准时
糟糕 差劲 很差
吵闹 嘈杂 喧闹
肮脏 脏乱 邋遢
失望 扫兴 灰心
简陋 粗陋 寒酸
陈旧 老旧 破旧
昂贵 高昂 偏贵
难吃 难以下咽
冷漠 冷淡 冷冰冰
非常 十分 特别 格外
比较 相当 颇为
感觉 觉得
酒店 宾馆 饭店 旅馆
房间 客房
前台 总台
服务员 服务生
早餐 早饭 早点
价格 价钱
位置 地段 地理位置
设施 设备
附近 周边 周围
晚上 夜里 夜间
马上 立刻 立即
下次 下回
朋友 友人
总体 整体 总的来说
""".strip()


def chinese_synonym_table():
    """Chinese word -> tuple of alternatives, built from the hand-written groups (symmetric).

    47 groups (133 words) of hotel and product review Chinese,
    written for this package; used by
    :class:`~sktransformers.TextAugmenter` for Chinese text.
    """
    return _table(_ZH_GROUPS)
