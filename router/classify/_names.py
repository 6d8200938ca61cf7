"""Word lists for the personal-data detector in :mod:`router.classify.pii`.

Everything here is plain data written for this project: common given names from many
countries and languages, common family names, words that look like names but are not,
honorifics and context cues. Lookups are done on lower-cased words; accented names are
also stored without their accents (``José`` is found as ``jose`` too).
"""

from __future__ import annotations

import unicodedata


def _fold(word: str) -> str:
    """``word`` lower-cased and without combining accents (``Łukasz`` stays ``łukasz``)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(*blocks: str) -> frozenset[str]:
    out: set[str] = set()
    for block in blocks:
        for w in block.split():
            out.add(w.lower())
            out.add(_fold(w))
    return frozenset(out)


_ENGLISH = """
James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel
Matthew Anthony Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald
Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott
Brandon Benjamin Samuel Gregory Alexander Patrick Raymond Dennis Jerry Tyler Aaron Adam
Nathan Henry Douglas Zachary Peter Kyle Ethan Walter Noah Jeremy Keith Roger Terry Gerald
Harold Sean Carl Arthur Lawrence Dylan Jesse Bryan Billy Joe Bruce Gabriel Logan Albert
Willie Alan Wayne Elijah Randy Roy Vincent Ralph Eugene Russell Bobby Mason Philip Louis
Harry Oliver Charlie Oscar Leo Archie Alfie Freddie Theo Toby Lucas Liam Owen Connor Callum
Jamie Ben Tom Sam Tim Rob Mike Dave Steve Chris Matt Nick Andy Tony Jim Jimmy Johnny Danny Ted
Fred Bob Ian Neil Graham Stuart Colin Derek Trevor Nigel Simon Martin Howard Gordon Clive
Malcolm Ross Craig Gavin Fraser Hamish Angus Ewan Rhys Gareth Evan Huw Dafydd Seamus Niall
Declan Ciaran Eoin Padraig Cormac Finn Ronan Aidan Brendan Conor Harvey Jake Joel Reuben
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty
Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah
Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma
Nicole Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather
Diane Ruth Julie Olivia Joyce Kelly Lauren Christina Joan Evelyn Judith Megan Andrea Cheryl
Hannah Jacqueline Martha Gloria Teresa Ann Sara Frances Kathryn Janice Abigail Alice Judy
Sophia Denise Doris Marilyn Danielle Beverly Isabella Theresa Diana Natalie Brittany Marie
Kayla Alexis Lori Amelia Isla Ava Mia Ella Poppy Evie Chloe Freya Millie Jessie Ellie Phoebe
Zoe Harriet Imogen Eleanor Matilda Beatrice Rosie Molly Niamh Aoife Siobhan Caoimhe Saoirse
Orla Sinead Roisin Ciara Eilidh Kirsty Fiona Morag Shona Bethan Cerys Seren Gwen Nia Kate
Katie Jenny Jane Liz Beth Becky Sally Wendy Tracy Tracey Jill Julia Claire Clare Louise Gemma
Natasha Vicky Abby Abbie Ellen Erin Kathy Jackie Heidi Tina Paula Lynn Carla Monica Wanda Rita
Irene Lillian Edna Mildred Ethel Gladys Norma Bonnie Peggy Sylvia Esther Pauline Audrey Vera
Hazel Josephine Harper Emmett Wyatt Caleb Isaac Luke Hudson Jaxon Grayson Nora Penelope Layla
Scarlett Hailey Brooke Kaitlyn Madeline Lydia Naomi Stella Violet Claudia Leah Ruthie
"""

_SPANISH_PORTUGUESE = """
Alejandro Alejandra Antonio Carlos Carmen Diego Elena Fernando Francisco Gabriela Guillermo
Isabel Javier Jorge José Josefa Juan Juana Luis Lucía Manuel Marta María Miguel Pablo Pedro
Pilar Rafael Raúl Ricardo Roberto Santiago Sergio Sofía Valentina Valeria Ximena Camila Mateo
Sebastián Nicolás Martín Matías Emilio Andrés Álvaro Adrián Iker Hugo Gonzalo Íñigo Jaime
Joaquín Rodrigo Ignacio Enrique Eduardo Esteban Alberto Alfonso Agustín Alonso Arturo Cristina
Inmaculada Guadalupe Marisol Montserrat Nuria Paloma Rocío Beatriz Consuelo Daniela Fernanda
Jimena Julieta Luciana Mariana Martina Soledad Yolanda Catalina Concepción Encarnación Remedios
Rosario Amparo Begoña Itziar Ainhoa Aitor Unai Xabier Ramón Vicente Julio Óscar Rubén Víctor
Héctor Félix Tomás Lorenzo Marcos Mario Ernesto Gerardo Horacio Octavio Rogelio Armando
Alfredo Gustavo Leonardo Maximiliano Thiago Benjamín Emiliano Facundo Tadeo Bautista Lautaro
Agustina Milagros Itzel Citlali Luz Maribel Marisa Noelia Lorena Verónica Silvia Raquel
João Tiago Gonçalo Duarte Martim Afonso Diogo Guilherme Matheus Enzo Heitor Davi Bernardo
Vinícius Caio Felipe Henrique Bruno Marcelo Fábio André Paulo Sérgio Luiz Antônio Leonor
Matilde Inês Carolina Margarida Sofia Helena Manuela Luíza Giovanna Heloísa Lívia Larissa
Letícia Juliana Patrícia Aline Bianca Bruna Tatiana Joana Catarina Filipa Sónia Adriana
Vanessa Conceição Graça Fátima Rodrigues Thaís Jéssica Priscila Renata Simone Cláudia
"""

_FRENCH = """
Jean Pierre Jacques Michel Philippe Alain Bernard Nicolas Christophe Stéphane Sébastien
Julien Laurent Frédéric Olivier Éric Thierry Pascal Guillaume François Antoine Mathieu Romain
Maxime Alexandre Raphaël Jules Léo Théo Noé Baptiste Clément Quentin Benoît Damien Didier
Gilles Hervé Jérôme Lionel Loïc Marc Mickaël Rémi Sylvain Xavier Yves Yann Gaël Florian
Arnaud Cédric Fabien Franck Grégory Ludovic Nathalie Isabelle Sylvie Françoise Monique
Valérie Sandrine Sophie Céline Stéphanie Véronique Chantal Émilie Camille Léa Manon Chloé Inès
Jade Zoé Lina Léna Juliette Margaux Océane Mathilde Aurélie Élodie Amélie Anaïs Laetitia
Mélanie Virginie Delphine Hélène Brigitte Dominique Geneviève Josiane Martine Mireille Odile
Solène Clémence Agathe Capucine Élise Apolline Margot Maëlle Jeanne Colette Yvette Ginette
Josette Henriette Thérèse Bernadette Amandine Gaëlle Maud Morgane Coralie Gérard Marcel
René Roland Serge Yannick Jean-Pierre Jean-Paul Jean-Luc Marie-Claire Anne-Sophie
"""

_GERMAN_DUTCH = """
Hans Klaus Jürgen Wolfgang Dieter Günter Horst Helmut Manfred Werner Gerhard Heinz Uwe Bernd
Andreas Stefan Markus Matthias Christian Sebastian Tobias Jan Jens Jörg Lars Nils Dirk Holger
Ralf Rainer Rolf Karl Heinrich Friedrich Wilhelm Ludwig Hermann Ernst Otto Fritz Kurt Gustav
Johannes Maximilian Felix Jonas Leon Elias Luca Lukas Emil Anton Jakob Moritz Niklas Philipp
Fabian Dominik Marcel Sven Torsten Volker Joachim Ulrich Reinhard Siegfried Günther Ursula
Ingrid Gisela Helga Renate Monika Petra Sabine Susanne Birgit Gabriele Karin Heike Anja Katrin
Kerstin Silke Stefanie Lena Lea Leonie Emilia Johanna Charlotte Greta Frieda Ida Mila Clara
Luisa Amelie Nele Jana Franziska Katharina Ute Elke Bärbel Waltraud Hildegard Erika Gertrud
Elfriede Irmgard Liselotte Annette Beate Dagmar Tanja Yvonne Anke Antje Wiebke Maren Svenja
Jette Merle Hans-Peter Karl-Heinz Anna-Lena
Pieter Cornelis Hendrik Willem Gerrit Jacobus Adrianus Hendrikus Petrus Henk Kees Piet Joost
Bram Daan Sem Thijs Ruben Stijn Niels Bas Maarten Wouter Jeroen Sander Bart Erik Rutger Floris
Gijs Joris Koen Luuk Mees Teun Tijn Wim Frans Geert Marieke Anneke Annemarie Saskia Femke
Fleur Sanne Lotte Eva Anouk Roos Isa Fenna Tess Noor Yara Lieke Linde Esmee Lieve Marloes
Marijke Wilhelmina Geertruida Hendrika Neeltje Sietske Ilse Inge Els Mieke Margriet Liesbeth
"""

_NORDIC = """
Anders Johan Per Olof Sven Magnus Mikael Fredrik Henrik Oskar Axel Alfred Viktor Isak Linus
Mats Ulf Björn Bjørn Stig Torbjörn Gunnar Leif Knut Kjell Arne Ole Søren Rasmus Mads Kasper
Frederik Jesper Morten Bent Poul Aksel Sigurd Haakon Håkon Harald Olav Eirik Espen Trond Geir
Terje Jørgen Sindre Jukka Mikko Matti Pekka Timo Juha Antti Heikki Ville Eero Aino Kerstin
Birgitta Elisabeth Kristina Margareta Ulla Britt Astrid Sigrid Solveig Ingeborg Liv Hanne
Mette Pernille Rikke Sofie Freja Maja Saga Elsa Ebba Alva Wilma Agnes Linnea Signe Tuva
Ingvild Siri Hilde Randi Tove Åsa Annika Minna Liisa Päivi Tuula Sanna Henna Kirsten Lone
"""

_ITALIAN_GREEK = """
Giuseppe Giovanni Luigi Angelo Vincenzo Pietro Salvatore Carlo Franco Domenico Paolo Michele
Giorgio Aldo Luciano Stefano Alessandro Marco Matteo Simone Federico Riccardo Davide Gabriele
Tommaso Edoardo Giacomo Emanuele Filippo Nicola Massimo Maurizio Fabrizio Claudio Gianluca
Gianni Raffaele Rocco Ciro Gennaro Pasquale Umberto Dario Daniele Cristiano Alessio Mattia
Samuele Giuseppina Giovanna Carmela Caterina Francesca Chiara Giulia Ginevra Giorgia Federica
Alessandra Paola Roberta Elisa Serena Antonella Raffaella Rosaria Concetta Assunta Filomena
Nunzia Graziella Ornella Loredana Patrizia Simona Stefania Ilaria Arianna Noemi Camilla
Vittoria Ludovica Benedetta Costanza Letizia Margherita Enrico Sandro Ugo Guido Carla Francesco
Rosa Jesús Jin Hyun Amadou Diya Kumar
Georgios Giorgos Dimitrios Konstantinos Ioannis Nikolaos Panagiotis Christos Vasileios
Athanasios Evangelos Spyridon Stavros Kostas Yannis Nikos Eleni Aikaterini Katerina Vasiliki
Angeliki Dimitra Ioanna Paraskevi Despina Athina Zoi
"""

_SLAVIC_BALTIC_HUNGARIAN = """
Piotr Krzysztof Andrzej Tomasz Paweł Marcin Michał Jakub Mateusz Łukasz Grzegorz Marek
Wojciech Kamil Dariusz Rafał Maciej Jarosław Zbigniew Jerzy Tadeusz Stanisław Janusz Ryszard
Kazimierz Józef Bartosz Szymon Kacper Wiktor Antoni Franciszek Dawid Katarzyna Małgorzata
Agnieszka Ewa Krystyna Elżbieta Zofia Magdalena Aleksandra Natalia Dorota Beata Jolanta
Danuta Halina Grażyna Wiesława Bożena Justyna Paulina Karolina Weronika Zuzanna Oliwia Alicja
Wiktoria Agata Iwona Izabela Sylwia Urszula
Aleksandr Alexei Aleksei Alexey Andrei Andrey Anatoly Boris Dmitri Dmitry Evgeny Yevgeny
Fyodor Gennady Georgy Grigory Igor Ilya Ivan Kirill Konstantin Leonid Maxim Mikhail Nikita
Nikolai Nikolay Oleg Pavel Pyotr Ruslan Semyon Sergei Sergey Stanislav Timur Vadim Valentin
Valery Vasily Vitaly Vladimir Vladislav Vyacheslav Yaroslav Yuri Yury Anastasia Darya Daria
Ekaterina Yekaterina Yelena Galina Irina Ksenia Kseniya Larisa Lyudmila Lyubov Marina Nadezhda
Natalya Nina Olga Oksana Polina Svetlana Tatiana Tatyana Yulia Yuliya Zoya Alina Alisa Arina
Varvara Vasilisa Veronika Taisiya Ulyana Ludmila Masha Sasha Dasha Katya Olya Misha Dima
Oleksandr Oleksiy Mykola Mykhailo Taras Bohdan Vasyl Yaroslava Olena Nataliya Iryna Halyna
Jiří Petr Josef Tomáš Jaroslav Miroslav Zdeněk Václav František Lukáš Ondřej Vojtěch Matěj
Lenka Kateřina Lucie Tereza Markéta Barbora Jozef Milan Dragan Goran Zoran Nenad Dejan Milica
Jelena Ivana Dragana Snežana Marija Ana Luka Nikola Stefan Marko Petar Tomislav Mateja
László István József János Zoltán Sándor Gábor Ferenc Attila Péter Tamás Zsolt Balázs Bence
Levente Máté Ádám Dávid Dániel Mária Erzsébet Katalin Ilona Éva Zsuzsanna Márta Judit Ágnes
Krisztina Eszter Réka Zsófia Dóra Gheorghe Vasile Constantin Mihai Alexandru Ionuț Florin
Cristian Adrian Dragoș Răzvan Bogdan Ștefan Ioana Mihaela Andreea Raluca Nicoleta Oana Luminița
Jonas Tomas Mindaugas Darius Aušra Rūta Jānis Andris Inese Kristīne Tiit Margus Kadri Triin
"""

_TURKISH_ARABIC_PERSIAN = """
Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim İsmail Osman Yusuf Murat Ömer Ramazan Halil
Süleyman Abdullah Mahmut Recep Salih Fatih Kemal Emre Burak Serkan Onur Kaan Efe Arda Berk
Eren Emir Yiğit Mert Barış Volkan Tolga Tuncay Orhan Erdem Oğuz Selim Ayşe Fatma Emine Hatice
Zeynep Elif Meryem Şerife Zehra Hanife Merve Büşra Esra Özlem Yasemin Derya Ebru Gülsüm Sibel
Tuğba Seda Aslı Ece Defne Ecrin Eylül Nehir Azra Irmak Şeyma Hülya Filiz Nurcan Songül Pınar
Dilek Aylin Damla Melike Beyza Kübra
Muhammad Mohammed Mohamed Mohammad Muhammed Ahmad Ahmed Mahmoud Mahmud Omar Umar Othman Uthman
Hassan Hussein Husain Hussain Khalid Khaled Abdallah Abdulrahman Abdelrahman Abdulaziz
Abdelaziz Ibrahim Ismail Yousef Youssef Karim Kareem Tariq Tarek Samir Sameer Nabil Walid
Waleed Faisal Fahad Fahd Saad Saeed Salim Salem Hamza Hamad Hamid Hamed Rashid Rashed Majid
Majed Jamal Kamal Adel Adil Amir Ameer Ayman Bilal Nasser Naser Mansour Marwan Ziad Ziyad Zaid
Zayed Anas Yasser Yasir Hisham Hazem Osama Usama Mazen Imad Emad Fadi Ghassan Nizar Qasim
Qassem Rayan Wael Suleiman Sulaiman Idris Yahya Zakaria Ayoub Fatima Fatemeh Aisha Aysha
Khadija Khadijah Maryam Mariam Zainab Zaynab Layla Leila Laila Amina Aminah Huda Hoda Salma
Yasmin Yasmine Rania Dina Dalia Hanan Iman Eman Reem Samira Nadia Nadya Asma Asmaa Heba Hiba
Ghada Nawal Suha Souad Widad Malak Joud Lujain Shahd Razan Farah Hala Hind Manal Nisreen Rasha
Ruba Sawsan Wafa Zahra Zeinab Abdulla Abdul
Reza Hossein Mehdi Mohsen Behnam Behrouz Babak Dariush Farhad Farid Kaveh Kamran Mehran Morteza
Navid Omid Parviz Payam Peyman Pouya Ramin Shahram Siavash Soheil Vahid Arash Arman Arya Bijan
Kourosh Jamshid Kianoush Afshin Ehsan Fereydoun Houshang Shirin Mahsa Nasrin Parisa Roya Sahar
Shabnam Shadi Simin Soraya Taraneh Yasaman Azadeh Elham Fariba Farnaz Golnaz Haleh Homa Ladan
Mahnaz Mitra Nazanin Niloufar Pegah Pardis Parvaneh Roxana Setareh Shiva Ziba Marjan Mojgan
Fereshteh Anahita Atefeh
Avraham Yitzhak Yosef Moshe Noam Itai Omer Ariel Eitan Yonatan Uri Shira Noa Tamar Yael
Avigail Rivka Hadas Liat Orly Efrat Ayelet Roni Shani Inbar Meital
"""

_SOUTH_ASIAN = """
Aarav Aditya Ajay Akash Amit Anand Anil Ankit Anuj Arjun Arun Ashok Ashish Deepak Dinesh Ganesh
Gaurav Harish Hemant Karan Kiran Krishna Manish Manoj Mahesh Mohan Mukesh Naveen Nikhil Nitin
Pankaj Pradeep Prakash Pranav Prateek Rahul Rajesh Rajiv Rakesh Ramesh Ravi Rohit Rohan Sachin
Sandeep Sanjay Santosh Satish Saurabh Shankar Siddharth Sunil Suresh Tarun Varun Vijay Vikram
Vinay Vinod Vishal Vivek Abhishek Aniket Ishaan Kabir Reyansh Vihaan Ayaan Advait Dhruv
Lakshmi Priya Aarti Aishwarya Ananya Anjali Anita Ankita Anusha Aparna Archana Asha Deepa
Deepika Divya Durga Gayatri Geeta Gita Isha Jyoti Kajal Kavita Kavya Komal Lata Madhu Meena
Meera Megha Neha Nisha Pooja Puja Preeti Priyanka Radha Rekha Ritu Sangeeta Sarita Seema
Shalini Shilpa Shreya Shruti Sita Smita Sneha Sonia Sunita Swati Tanvi Usha Vandana Vidya
Aadhya Saanvi Anika Kiara Myra Riya Gurpreet Harpreet Manpreet Jaspreet Simran Navneet
Amarjit Baljit Kuldeep Rajinder Sukhwinder Hardeep Jagdeep Murugan Senthil Karthik Venkatesh
Srinivas Lakshman Ramya Kavitha Revathi Saranya Suganya Meenakshi Padma Venkat Ravindra
Subramanian Balaji Prasad Naresh Sudhir Sushil Yogesh Girish Jagdish Pramod Vinita Tanvir
Rafiq Shafiq Nusrat Farzana Taslima Sabina Rubina Shahid Imran Asif Arif Kashif Zubair Junaid
Ayesha Sana Hira Mehwish Sadia Bushra Nadeem Naveed Waqar Fawad
"""

_EAST_ASIAN = """
Wei Jing Xiaoming Xiaohong Xiaoli Xiaoyan Jian Jianguo Jianhua Guoqiang Zhiwei Zhiqiang
Haiyan Hailong Yuxuan Zihan Zixuan Haoran Yuhang Yichen Junjie Jiahao Xinyi Yutong Ruoxi
Siyu Mingyu Tianyu Jiaxin Shuang Lihua Meiling Xiuying Guiying Yulan Xiulan Jianjun
Qiang Jie Jun Lei Hui Ying Xin Yan Tao Ming Chao Hong
Hiroshi Takashi Satoshi Kenji Kenta Koji Makoto Masashi Naoki Shota Shun Takeshi Taro Tetsuya
Tomohiro Yuki Yusuke Daisuke Haruto Hinata Sota Yuto Riku Kaito Yamato Haruki Kazuki Akira
Akiko Ayaka Ayumi Chiyo Haruka Hanako Hikari Kaori Keiko Kumiko Mami Megumi Misaki Miyu Rina
Sakura Tomoko Yoko Yui Yumi Yuka Yuko Aoi Himari Mio Tsumugi Noriko Michiko Sachiko Kazuko
Junko Kyoko Nanami Shinji Shigeru Ichiro Jiro Hideo Kazuo Kenichi Shinichi Ryota Takumi
Tatsuya Tsubasa Yoshiki Kohei Masato Nobuo Hiroko Emiko
Min-jun Minjun Seo-yeon Seoyeon Ji-hoon Jihoon Ji-woo Jiwoo Ji-yeon Ji-hye Ji-min Jimin
Seo-jun Seojun Do-yun Doyun Ha-eun Haeun Ye-jin Yejin Su-bin Subin Hyun-woo Hyunwoo Jae-won
Jaewon Sung-min Sungmin Young-ho Youngho Dong-hyun Donghyun Jin-woo Jinwoo Eun-ji Eunji
Soo-jin Soojin Hye-jin Hyejin Min-seo Minseo Ji-ho Jiho Seung-hoon Joon-ho Joonho Kyung-soo
Eun-woo Jisoo Sun-hee Mi-young Young-mi Jung-ho Sang-woo Byung-hun Min-ji Seo-hyun
Anh Bao Cuong Dung Duc Hieu Huong Huy Khanh Khoa Linh Minh Nga Ngoc Nhung Phong Phuong Quang
Quynh Thanh Thao Thuy Tien Trang Trung Tuan Tung Viet Vinh Xuan Hanh Hien Hoai Loan Oanh
Phuc Thinh Toan Uyen
Budi Agus Bambang Hendra Joko Slamet Wahyu Dewi Siti Ayu Putri Indah Rizki Fitri Nurul Aziz
Hafiz Azman Rosli Aisyah Syafiq Haziq Aiman Irfan Faizal Jericho Mariel Maricel Rosalie
Jocelyn Ligaya Marites Rowena Rodel Somchai Somsak Suda Malee Niran Kanya
"""

_AFRICAN = """
Chinedu Chukwuemeka Emeka Ngozi Adaeze Chioma Chiamaka Obinna Ikenna Nnamdi Uchenna Ifeanyi
Kelechi Nkechi Amaka Ebere Ifeoma Oluwaseun Seun Olumide Damilare Ayodele Babatunde Tunde
Adebayo Bayo Folake Funmilayo Funmi Yetunde Abimbola Bukola Kehinde Taiwo Temitope Tope
Tolulope Tolu Adewale Wale Olusegun Segun Femi Kunle Lanre Dayo Bisi Sade Titilayo Yemi Aliyu
Abubakar Usman Sani Garba Hauwa Halima Aminu Kabiru Nasiru Wanjiru Wanjiku Njeri Wambui
Nyambura Akinyi Achieng Atieno Auma Awino Adhiambo Otieno Odhiambo Ochieng Onyango Kamau
Kariuki Mwangi Njoroge Kimani Juma Baraka Imani Neema Amani Zawadi Rehema Upendo Furaha
Faraji Jabari Jelani Kofi Kwame Kwabena Kwaku Kojo Yaw Akua Abena Efua Adwoa Yaa Afua Esi
Thabo Sipho Themba Lerato Naledi Nomvula Thandiwe Zanele Bongani Mandla Lindiwe Tendai
Tatenda Tafadzwa Chipo Rudo Nyasha Tsitsi Farai Kudzai Tinashe Abebe Alemayehu Almaz Tigist
Selam Yohannes Dawit Mekdes Desta Fikre Genet Hirut Kebede Lemlem Meron Senait Tesfaye Aster
Moussa Mamadou Ousmane Abdoulaye Ibrahima Cheikh Aminata Fatou Awa Mariama Aissatou Khady
"""

# Given names that are also ordinary words, places, months or very short syllables: they
# only count as a name with a known family name after them or a context cue before them.
_AMBIGUOUS = """
Will May June April August Mark Grace Hope Joy Faith Rose Iris Art Bill Pat Sue Guy Frank Jack
Max Ray Rich Dawn Summer Autumn Victoria Georgia Virginia Florence Paris Sydney Jordan China
India Israel Chelsea Lily Daisy Holly Ruby Amber Crystal Page Dean Drew Gene Carol Chase
Christian Cliff Don Earl Ernest Forest Glen Grant Hunter Lance Miles Norman Long My Son Nam
Van Kim Mai Tam Thi An Ha Na Min Fang Bin Hung Nur Sri Jay Dev Raj Ram Can Cem Deniz Ela Gul
Sultan Said Sami Rami Dana Hana Lina Lama Rana Mona Nada Maha Tara Mina Neda Sina Nima Noor
Jan Jun Ville
Nour Sun Santiago Adelaide Austin Aurora Eden Orlando Lincoln Kingston Madison Charlotte
Savannah Phoenix Dallas Houston Denver Alexandria Lourdes Regina Valencia Mercedes Dolores
Sofia Lima Milan Sierra Jade Olive Pearl Violet Ivy Jasmine Stone Hill Wood Li Yang Lan
Mei Bo Yu Yi Lin Ping Hua Feng Long Yun Kai Ren Sho Emi Mai Rin Nam Hai Hoa Son Tam Lan Ayo
Esther Noble Young Bishop Prince King Duke Major Earl Baker Cooper Hope Reed Rowan Sage
Chance Shade Bliss Cherry Candy Precious Blessing Gift Patience Mercy Favour Favor Comfort
"""

_SURNAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Evans Turner
Phillips Parker Edwards Collins Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Reed
Bailey Bell Kelly Howard Ward Cox Richardson Wood Watson Brooks Bennett Gray Hughes Price
Sanders Patel Myers Long Ross Foster Jenkins Powell Sullivan Russell Ortiz Jensen Fisher
O'Brien O'Connor O'Neill Murray Byrne Ryan Walsh McCarthy Kennedy Doyle Quinn MacDonald
Fernández González Rodríguez Martínez Sánchez Pérez Gómez Díaz Muñoz Álvarez Romero Navarro
Ruiz Moreno Jiménez Gutiérrez Castro Ortega Morales Vargas Reyes Cruz Mendoza Silva Santos
Oliveira Souza Costa Pereira Almeida Ferreira Carvalho Gomes Ribeiro Alves Lima Araújo
Barbosa Rocha Dias Nunes Marques Cardoso Teixeira Martins
Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein
Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner
Krause Meier Lehmann Schmid Huber Mayer Bauer Gruber
Dubois Durand Lefebvre Leroy Moreau Simon Laurent Michel Lefèvre Fontaine Rousseau Vincent
Mercier Blanc Guerin Girard Bonnet Dupont Lambert Faure Chevalier Roux Fournier Morel
Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti
Costa Giordano Mancini Rizzo Lombardi Moretti Barbieri Fontana Santoro Caruso
Jansen Janssen Visser Smit Bakker Dekker Mulder Bos Vos Peters Hendriks Dijkstra Vermeulen
Johansson Andersson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson
Hansen Nielsen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Johansen Olsen
Korhonen Virtanen Mäkinen Nieminen Hämäläinen Koskinen Järvinen
Nowak Kowalski Kowalska Wiśniewski Wiśniewska Wójcik Kowalczyk Kamiński Lewandowski
Zieliński Szymański Woźniak Dąbrowski Kozłowski Mazur Krawczyk Kaczmarek Wałęsa
Ivanov Ivanova Smirnov Smirnova Kuznetsov Popov Popova Petrov Petrova Sokolov Volkov Fedorov
Morozov Novikov Kozlov Lebedev Pavlov Orlov Shevchenko Kovalenko Bondarenko Tkachenko
Novák Svoboda Dvořák Černý Procházka Nagy Kovács Tóth Szabó Horváth Varga Kiss Popescu Ionescu
Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç
Al-Farsi Al-Sayed Haddad Khalil Nasser Abdullah Hassan Hussein Mansour Saleh Aziz Rahman
Karimi Hosseini Mohammadi Ahmadi Rezaei Moradi Jafari Rostami Tehrani
Sharma Singh Kumar Gupta Shah Mehta Joshi Iyer Reddy Nair Rao Das Chatterjee Banerjee
Mukherjee Verma Agarwal Malhotra Kapoor Chopra Bose Desai Pillai Menon Khan Chowdhury
Wang Zhang Liu Chen Yang Huang Zhao Zhou Wu Xu Sun Zhu Hu Guo Lin Gao Luo Zheng Liang Xie
Tang Han Cao Deng Feng Cheng Cai Peng Pan Yuan Dong Jiang Wong Chan Cheung Leung Lau
Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada
Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Yamazaki Mori Ikeda Hashimoto
Kim Park Choi Jung Jeong Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song
Tran Pham Hoang Phan Vu Vo Dang Bui Ngo Duong Ly
Santoso Wijaya Susanto Hidayat Tan Lim Ong Goh Teo
Okafor Okonkwo Adeyemi Okeke Eze Nwosu Balogun Ogunleye Adebayo Mensah Owusu Boateng Asante
Diallo Traoré Keita Ndiaye Diop Kamara Otieno Mwangi Kamau Dlamini Nkosi Ndlovu Mokoena
Cohen Levi Mizrahi Friedman Goldberg Katz Shapiro
"""


def _phrases(block: str) -> frozenset[str]:
    return frozenset(p.strip() for p in block.split("|") if p.strip())


GIVEN_NAMES = _words(
    _ENGLISH,
    _SPANISH_PORTUGUESE,
    _FRENCH,
    _GERMAN_DUTCH,
    _NORDIC,
    _ITALIAN_GREEK,
    _SLAVIC_BALTIC_HUNGARIAN,
    _TURKISH_ARABIC_PERSIAN,
    _SOUTH_ASIAN,
    _EAST_ASIAN,
    _AFRICAN,
    _AMBIGUOUS,
)
"""Common given names, lower-cased, with and without accents."""

AMBIGUOUS_NAMES = _words(_AMBIGUOUS)
"""Given names that need stronger evidence (a known family name or a cue)."""

SURNAMES = _words(_SURNAMES)
"""Common family names, lower-cased; also used for family-name-first (East Asian) order."""

NOT_NAMES = _words(
    """
    January February March September October November December Feb Mar Apr Jul Aug Sep Sept
    Oct Nov Dec Mon Tue Tues Wed Thu Thur Thurs Fri Sat
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Today Tomorrow Yesterday
    The A And Or But Of In On At To For With From By As Is It Its This That These Those We
    You They He She His Her Him Our Your Their My Me Us I Not No Yes All Any Some Every Each
    Who What When Where Why How Which If Then Than So Also Just Only Here There Please Thanks
    Thank Hello Hi Dear Hey Best Kind Regards Sincerely Cheers Yours Signed Team Everyone Sir
    Madam Madame Customer Customers Colleagues Friends Folks Guys Support Admin Manager Staff
    Mom Mum Dad Mother Father Brother Sister Uncle Aunt Grandma Grandpa Doctor Nurse Officer
    Street Road Avenue Lane Drive Boulevard Square Park Station Airport Bridge River Lake
    Mountain Mount Island Islands Beach Bay Valley Hills City County State States Kingdom
    Republic Union University College School Academy Institute Hospital Clinic Church
    Cathedral Museum Gallery Library Hotel Restaurant Cafe Bank Company Corporation Corp Inc
    Ltd LLC GmbH Group Foundation Trust Society Association Council Committee Department
    Ministry Agency Center Centre Hall House Tower Building Stadium Arena Market Mall Prize
    Award Cup League Club Tech Times Post News Journal Review Press Records Studios Pictures
    Airlines Motors Systems Labs Day Week Year Christmas Easter Act Law Project Program Kong
    Lanka Arabia Rica Leone Zealand Vegas Angeles Coast Garden Gardens Way Place Court Terrace
    Close Crescent Highway Road San Santa São Sao Saint Sankt Santo Fort Port
    North South East West Northern Southern Eastern Western Central New Old Great Little Saint
    St Fort Port Cape Lake Rock Water Fire Air Earth Moon Star Sky Sea Ocean World Global
    English French German Spanish Italian Chinese Japanese Korean Russian Arabic Indian American
    British European African Asian Python Java Rust Linux Windows Apple Google Microsoft Amazon
    Meta Tesla Netflix Android Chrome Firefox Excel Word Office Teams Slack Zoom GitHub Docker
    Chapter Section Part Figure Table Appendix Note Example Question Answer Step Summary
    Introduction Conclusion Abstract Version Release Update Error Warning Info Debug Test
    Mr Mrs Ms Miss Dr Prof Professor Herr Frau Monsieur Mme Mlle Señor Señora Sr Sra Srta
    Ave Blvd Rd Ln Pl Sq Ct Hwy Via Calle Rua Rue Piazza Plaza Corso Avenida Ul
    None True False Null Nil NaN Undefined Unknown Anonymous Default Root User Guest Sample
    Self String Object Array List Dict Error Exception Type Class Function Optional Any
    """
)
"""Capitalised words that are never part of a person's name."""

HONORIFICS = _words(
    """
    Mr Mrs Ms Miss Mx Dr Prof Professor Sir Dame Lady Lord Herr Frau Fräulein Monsieur
    Madame Mademoiselle Mme Mlle M Señor Señora Señorita Sr Sra Srta Don Doña Dona Senhor
    Senhora Sig Signor Signore Signora Signorina Dott Dottore Dottoressa Pan Pani Heer Mevrouw
    Mevr Dhr Hr Fru Sayın Sheikh Shaikh Sayed Sayyid Shri Smt Shrimati Ustaz Hajji
    """
)
"""Titles directly before a name (any capitalised word after them is taken as a name)."""

GREETINGS = _words(
    """
    Dear Hi Hello Hey Dearest Liebe Lieber Chère Cher Querido Querida Estimado Estimada Caro
    Cara Gentile Beste Kære Kära Hej Hallo Bonjour Hola Ciao Olá Signed Attn Contact Thanks
    """
)
"""Greetings and labels before a name (the name must then be a known given or family name)."""

STRONG_CUES = _phrases(
    """
    my name is | my name's | name is | name: | full name: | call me | known as |
    regards, | signed, | sincerely, | cheers, | thanks, | best, | yours, | contact: |
    contact person: | attn: | attention: | patient: | client: | customer: | employee: |
    applicant: | passenger: | guest: | from: | author: | je m'appelle | mon nom est |
    nom: | ich heiße | ich heisse | mein name ist | name ist | me llamo | mi nombre es |
    nombre: | mi chiamo | il mio nome è | nome: | meu nome é | chamo-me | mijn naam is |
    ik heet | naam: | jeg heter | jeg hedder | jag heter | mitt namn är | nazywam się |
    mam na imię | benim adım | adım | nama saya | nama: | tên tôi là | namn: | navn: |
    imię:
    """
)
"""Phrases (lower case) after which a capitalised word is taken to be a name."""

WEAK_CUES = _phrases(
    """
    i am | i'm | this is | ich bin | je suis | soy | sono | eu sou | ik ben | jestem | jeg er |
    jag är | saya | met | meet | married | wife | colleague | called | named
    """
)
"""Phrases after which a capitalised word is a name only if it is a known given name."""

PLACE_PREFIXES = _words(
    "San Santa São Sao Saint St Sankt Santo Fort Port Mount Lake Cape New Gran Puerto Porto Rio "
    "Villa Ciudad Bad"
)
"""Words that turn a following given name into a place name (San Diego, Port Elizabeth)."""

PLACE_WORDS = _words(
    "Island Islands City Town Village Heights Hills Hill Park Gardens Garden Beach Bay Springs "
    "Valley Falls Harbour Harbor Creek Point North South East West Upper Lower Central Old Nagar "
    "Colony Layout Extension Estate Sector Ward District Barrio Colonia Bairro Quarter"
)
"""Words that make two capitalised words after a street a district or a town (Victoria
Island, Palm Springs), not a person's name."""

PARTICLES = _words(
    "van von der den de del della di da do dos das du la le bin ibn al el ben ter ten y e zu af"
)
"""Lower-case words that may sit inside a name (Ludwig van Beethoven, María de la Cruz)."""

STREET_SUFFIXES = _phrases(
    """
    straße | strasse | str. | gasse | weg | allee | platz | damm | ufer | chaussee |
    markt | straat | laan | gracht | plein | kade | singel | dijk | steeg | gade | vej |
    gatan | gata | vägen | veien | katu | utca | ulice | iela | gatvė
    """
)
"""Endings of one-word street names (Hauptstraße, Kerkstraat, Nørregade, Drottninggatan)."""

STREET_WORDS_AFTER = _words(
    "gate gata gatan vej gade vei veien vägen straat caddesi cadde sokak sokağı bulvarı utca út"
)
"""Street-type words written after the street name as a separate word (Karl Johans gate)."""

STREET_WORDS_BEFORE = _words(
    """via viale piazza piazzale corso largo vicolo calle avenida plaza paseo carrer carretera
    camino ronda travesía rua travessa praça alameda estrada rodovia ulica aleja plac strada
    bulevardul calea piața rue avenue boulevard chemin allée quai impasse route"""
)
"""Street-type words written before the street name (Via Roma, Calle Mayor, Rua Augusta)."""

STREET_ABBREVIATIONS = _words("ul al pl os av avda")
"""Abbreviated street types, only counted with their dot (ul. Marszałkowska, av. Paulista)."""

PO_BOX_WORDS = _words("box postfach postbus postboks apartado correos postal casilla b.p")
"""Words that end a post-office-box phrase (P.O. Box, Postfach, Apartado de Correos)."""

BIRTH_WORDS = frozenset(
    """born birth dob d.o.b birthday birthdate bday geboren geb geburtsdatum geburtstag né née
    naissance nacido nacida nacimiento nato nata nascita nascido nascida nascimento født
    fødselsdato född födelsedatum urodzony urodzona urodzenia urodziny doğum geboortedatum
    syntymäaika syntynyt""".split()
)
"""Words that put a nearby date in a birth context."""

BIRTH_KEYS = tuple(
    """dob birthdate dateofbirth birthday bday birthdt geburtsdatum geburtstag fechanacimiento
    fechadenacimiento datanascimento datadenascimento datadinascita datenaissance
    datedenaissance geboortedatum födelsedatum fødselsdato syntymäaika dataurodzenia""".split()
)
"""Keys of a birth date in code and data, as their last part reads with ``_``, ``-`` and case
removed: ``birth_date``, ``dateOfBirth``, ``customer_dob``, ``fecha_de_nacimiento``."""

BIRTH_CUES_CJK = ("生年月日", "出生", "生日", "誕生日", "생년월일", "생일")
"""Chinese, Japanese and Korean words before a birth date (出生日期, 出生于 ...)."""

BORN_AFTER_CJK = ("生", "出生", "생")
"""What follows a birth date in those languages: 1985年4月12日生まれ, 1985년 4월 12일생."""

MONTHS = _words(
    """jan january feb february mar march apr april may jun june jul july aug august sep sept
    september oct october nov november dec december januar februar märz maerz mai juni juli
    oktober dezember janvier février mars avril juin juillet août septembre octobre novembre
    décembre enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre
    noviembre diciembre gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre
    janeiro fevereiro março maio junho julho setembro outubro novembro dezembro januari
    februari maart mei augustus"""
)
"""Month names and abbreviations in the languages the date patterns know."""

PHONE_WORDS = _words(
    """tel tel. tél phone telephone téléphone call calls calling mobile mob cell cellphone
    whatsapp signal fax handy telefon telefono teléfono telefone móvil movil celular portable
    cellulare sms text ring dial reach number no. nr. hotline número numero numer zadzwoń
    zadzwon appelez appeler anrufen"""
)
"""Words that make a nearby digit group a phone number."""

NUMBER_WORDS = _words("number no. nr. num. nº número numero numer")
"""Phone words that say only "number": after a reference word they are not phone cues."""

REFERENCE_WORDS = _words(
    """order invoice reference ref ref. part serial item tracking ticket case booking
    confirmation customer account sku model isbn transaction receipt shipment parcel
    bestellnummer rechnung kundennummer commande facture référence pedido factura"""
)
"""Words that make a nearby digit group a reference ("order number 4021 7789 1123"),
not a phone number, unless a real phone word is there too."""

PHONE_CUES_CJK = (
    "电话",
    "電話",
    "手机",
    "手機",
    "携帯",
    "号码",
    "號碼",
    "전화",
    "휴대폰",
    "연락처",
)
"""Chinese, Japanese and Korean phone words, found inside the unspaced text before a number."""

SSN_WORDS = _words("ssn ss# ssn# ssn: social security sin")
"""Words that make a nearby nine-digit group a US social security number."""

VERSION_WORDS = _words(
    """v ver version versions release build python node firmware ios android macos windows
    chrome kernel rev revision update upgrade patch sdk api tag section chapter step rule
    clause article figure table page § sections chapters steps rules figures tables pages
    versions releases builds"""
)
"""Words after which a dotted number is a version, not an address. Only a number made of
digits and dots, right after such a word: "update my card to 4111 1111 1111 1111" is a card."""

IP_WORDS = _words("ip ip's ipv4 address addr host server router gateway")
"""Words that make a dotted number an IPv4 address even after a version word."""

QUAD_VERSION_WORDS = tuple(
    """v ver version versions release releases build builds firmware rev revision python node
    kernel sdk ios android macos windows chrome tag section sections chapter chapters step
    clause article figure table page §""".split()
)
"""Words that, right before a dotted quad ("firmware 1.0.0.12", "version is 10.4.2.118"),
make it a version rather than an IPv4 address (lower case)."""

VERSION_CUES = tuple(
    "upgrad downgrad updat version release build newer older firmware patch changelog semver"
    " bump hotfix rollback pinned pinning".split()
)
"""Beginnings of words that, just before "from" one dotted quad "to" another, make them
version numbers rather than IPv4 addresses ("Upgrading from 2.4.10.1 to 2.4.12.0"), unless
a network word is near."""

NETWORK_CUES = tuple(
    "host server connect ping ssh subnet port gateway dns address addr router routing firewall"
    " network proxy dhcp netmask cidr packet interface listen socket traffic device tunnel"
    " telnet traceroute nslookup whitelist allowlist blocklist".split()
)
"""Beginnings of words that keep a dotted quad an IPv4 address whatever else is near."""

NETWORK_WORDS = frozenset("ip ips ipv ipv4 lan wan nat vpn vlan tcp udp http https vm".split())
"""Short network words, compared whole."""

CURRENCY_WORDS = _words(
    "usd eur gbp chf jpy cny inr rs rs. aud cad sek nok dkk pln brl mxn price cost costs total"
)
"""Words after which a number is an amount of money."""

US_STATES = frozenset(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV
    NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR""".split()
)
"""US state and territory postal codes."""

BR_STATES = frozenset(
    "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split()
)
"""Brazilian states, written after the town before a postcode: São Paulo - SP, 01304-001."""

IN_PLACES = frozenset(
    """Karnataka Maharashtra Kerala Telangana Gujarat Rajasthan Bihar Odisha Orissa Punjab
    Haryana Assam Jharkhand Chhattisgarh Uttarakhand Goa Manipur Meghalaya Mizoram Nagaland
    Sikkim Tripura Puducherry Pondicherry Delhi Mumbai Bengaluru Bangalore Chennai Kolkata
    Hyderabad Pune Ahmedabad Jaipur Lucknow Kanpur Nagpur Indore Bhopal Patna Surat Vadodara
    Kochi Cochin Thiruvananthapuram Trivandrum Coimbatore Madurai Mysuru Mysore Mangaluru
    Mangalore Noida Gurugram Gurgaon Ghaziabad Faridabad Chandigarh Visakhapatnam Vijayawada
    Bhubaneswar Guwahati Dehradun Ludhiana Amritsar Agra Varanasi Nashik Thane Navi Secunderabad
    Pradesh Nadu Bengal""".split()
)
"""Indian states and large cities: the word before a 6-digit PIN code (Tamil Nadu, New Delhi)."""

IN_LOCALITY_WORDS = frozenset(
    """Apartments Apartment Apts Residency Enclave Nagar Colony Sector Cross Main Layout
    Extension Extn Vihar Marg Society Phase Puram Bagh Ganj Halli Palya Chowk Stage Block Road
    Street Lane Gali Mohalla Niwas Bhavan Complex Heights Towers""".split()
)
"""Words of Indian locality and building names (Sai Krupa Apartments, 5th Cross, Nehru Nagar)."""

IBAN_LENGTHS = {
    k: int(v)
    for k, v in (
        item.split(":")
        for item in """AD:24 AE:23 AL:28 AT:20 AZ:28 BA:20 BE:16 BG:22 BH:22 BI:27 BR:29 BY:28
        CH:21 CR:22 CY:28 CZ:24 DE:22 DJ:27 DK:18 DO:28 EE:20 EG:29 ES:24 FI:18 FK:18 FO:18
        FR:27 GB:22 GE:22 GI:23 GL:18 GR:27 GT:28 HN:28 HR:21 HU:28 IE:22 IL:23 IQ:23 IS:26
        IT:27 JO:30 KW:30 KZ:20 LB:28 LC:32 LI:21 LT:20 LU:20 LV:21 LY:25 MC:27 MD:24 ME:22
        MK:19 MN:20 MR:27 MT:31 MU:30 NI:28 NL:18 NO:15 OM:23 PK:24 PL:28 PS:29 PT:25 QA:29
        RO:24 RS:22 RU:33 SA:24 SC:31 SD:18 SE:24 SI:19 SK:24 SM:27 SO:23 ST:25 SV:28 TL:23
        TN:24 TR:26 UA:29 VA:22 VG:24 XK:20 YE:30""".split()
    )
}
"""ISO 13616 IBAN length for each country code."""

STREET_TYPES = frozenset(
    """Street Avenue Road Boulevard Lane Drive Court Place Square Terrace Way Close Crescent
    Highway Parkway Circle Row Mews Gardens Grove Walk Alley Trail Plaza Hill Green Parade
    Quay""".split()
)
"""English street types written after the name and a house number (221B Baker Street)."""

STREET_TYPE_ABBREVIATIONS = frozenset("St Ave Rd Blvd Ln Dr Ct Pl Sq Hwy Pkwy".split())
"""Their abbreviations (10 Downing St, 1600 Pennsylvania Ave NW)."""

FRENCH_STREET_TYPES = _words(
    "rue avenue av. boulevard bd place allée chemin impasse quai cours route passage"
)
"""French street types written after the house number (12 rue de la Paix)."""

PASSWORD_KEYS = _words(
    """password passwd passwort passphrase pwd kennwort contraseña senha wachtwoord lösenord
    salasana hasło haslo parola şifre adgangskode passord pass pw"""
) | {"mot de passe"}
"""Keys whose value is a password (``password=...``, ``"passwd": "..."``)."""

SHORT_PASSWORD_KEYS = frozenset({"pass", "pw", "pwd"})
"""Keys that count only as whole words (``pw: ...``, not ``bypass: ...``)."""

PASSWORD_IS = ("is", "was", "ist", "war", "es", "est", "era", "é", "è", "jest", "är", "er")
"""Verbs that give a password in prose: "my password is Sommer2024!", "mein Passwort ist ..."."""

TOKEN_KEYS = _phrases(
    "secret | token | api_key | apikey | api-key | access_key | secret_key | private_key | auth"
    " | accountkey | account_key | sharedaccesskey"
)
"""Keys whose value is a secret only when it looks random (letters and digits, 8+ long)."""

NOT_PASSWORDS = frozenset(
    """must should is the a an your my be will can at of not required optional none null true
    false string str password secret token xxx empty here""".split()
)
"""Values after a password key that are prose or placeholders, not passwords."""

PLACEHOLDER_PASSWORDS = frozenset(
    """password passwd pass pwd pw secret token apikey api_key changeme change_me
    db_pass db_password db_passwd""".split()
)
"""Passwords that documentation writes in a URL or on a command line (lower case, ``_`` for
``-``): a placeholder only with a placeholder user (``USER:PASSWORD``); ``admin:password``
may be a real, weak password."""

TEMPLATE_PASSWORDS = frozenset(
    """your_password yourpassword your_pass your_passwd your_pwd your_secret your_token
    your_api_key your_apikey your_key""".split()
)
"""Passwords that only a template writes, whoever the user (lower case, ``_`` for ``-``)."""

PLACEHOLDER_USERS = frozenset(
    """user username user_name usr login db_user dbuser your_user your_username
    youruser yourusername""".split()
)
"""User names that documentation writes before a placeholder password (lower case)."""

API_KEY_FORMATS = (
    r"sk-(?:ant-|proj-|svcacct-|admin-)?[\w\-]{20,}",  # OpenAI, Anthropic
    r"[sr]k_(?:live|test)_[^\W_]{16,}",  # Stripe
    r"gh[pousr]_[^\W_]{30,}|github_pat_\w{30,}",  # GitHub
    r"xox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack
    r"AIza[\w\-]{35}",  # Google
    r"(?:AKIA|ASIA)[A-Z0-9]{16}",  # AWS access key ids
    r"glpat-[\w\-]{20,}|hf_[^\W_]{30,}|npm_[^\W_]{36}",  # GitLab, Hugging Face, npm
    r"eyJ[\w\-]{6,}\.eyJ[\w\-]{6,}\.[\w\-]*",  # JSON Web Tokens
    r"SG\.[\w\-]{22}\.[\w\-]{43}",  # SendGrid
    r"SK[0-9a-f]{32}|key-[0-9a-z]{32}",  # Twilio API key SIDs, Mailgun
    r"pypi-AgEIcHlwaS5vcmc[\w\-]{50,}",  # PyPI upload tokens
    r"dop_v1_[0-9a-f]{64}|shp(?:at|ss|ca|pa)_[0-9a-fA-F]{32}",  # DigitalOcean, Shopify
    r"EAAA[\w\-]{60}",  # Square access tokens
)
"""Regular expressions of API keys and tokens with a recognisable prefix."""

PHONE_FORMATS = (
    # North America: (555) 123-4567, 555.123.4567, 1-800-555-0199
    r"(?:1[ .\-])?\(?[2-9]\d\d\)?[ .\-]?\d{3}[ .\-]\d{4}",
    r"\(0\d{1,4}\)[ \-]?\d{2,8}(?:[ .\-]\d{2,8}){0,3}",  # (020) 7946 0958
    r"0\d{1,4}(?:[ .\-/]\d{2,8}){1,4}",  # trunk prefix 0: 020 7946 0958, 06 12 34 56 78
    r"\(\d{2,3}\) ?\d{4,5}-?\d{4}",  # Brazil: (11) 91234-5678
    r"[6-9]\d\d(?: \d\d){3}|[89]\d \d{3}(?: \d\d){2}",  # Spain: 612 34 56 78, 91 123 45 67
    r"1[3-9]\d \d{4} \d{4}",  # China mobile: 138 0013 8000
)
"""Regular expressions of national phone number layouts (without a country code)."""

CARD_ISSUERS = (  # (lowest prefix, highest prefix, allowed lengths)
    (4, 4, (13, 16, 19)),  # Visa
    (34, 34, (15,)),  # American Express
    (37, 37, (15,)),
    (51, 55, (16,)),  # Mastercard
    (2221, 2720, (16,)),
    (36, 36, range(14, 20)),  # Diners Club
    (38, 39, range(14, 20)),
    (300, 305, range(14, 20)),
    (3528, 3589, range(16, 20)),  # JCB
    (6, 6, range(13, 20)),  # Discover, UnionPay, Maestro
    (50, 50, range(13, 20)),  # Maestro
    (56, 58, range(13, 20)),
)
"""Payment card issuer identification number ranges and card number lengths."""
